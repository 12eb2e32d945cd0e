"""Gaussian-process regression with a Matérn 5/2 kernel, and expected improvement, in JAX.

Inputs live in the unit cube; outputs are standardized before fitting. Kernel
hyperparameters (one length scale per input, amplitude, noise) maximize the log marginal
likelihood by Adam from several starts at once (vmap). Everything runs in float64.

References:
  Rasmussen and Williams, Gaussian Processes for Machine Learning (2006), eqs. 2.30, 4.17.
  Snoek, Larochelle and Adams, "Practical Bayesian optimization of machine learning
  algorithms", NeurIPS 2012 (Matérn 5/2, expected improvement).
"""

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

_LOG_BOUNDS = {"length": (np.log(1e-2), np.log(20.0)), "amplitude": (np.log(1e-2), np.log(20.0)),
               "noise": (np.log(1e-6), np.log(1.0))}


class GPParams(NamedTuple):
    """Log length scales (d,), log amplitude, log noise variance: float64."""

    log_length: jax.Array
    log_amplitude: jax.Array
    log_noise: jax.Array


def _clip(p: GPParams) -> GPParams:
    return GPParams(*(jnp.clip(v, *_LOG_BOUNDS[k]) for k, v in
                      zip(("length", "amplitude", "noise"), p, strict=True)))


def matern52(a: jax.Array, b: jax.Array, p: GPParams) -> jax.Array:
    """Kernel matrix (n, m) between points a (n, d) and b (m, d)."""
    diff = (a[:, None, :] - b[None, :, :]) / jnp.exp(p.log_length)
    r = jnp.sqrt(jnp.sum(diff * diff, -1) + 1e-12)
    s5 = jnp.sqrt(5.0) * r
    return jnp.exp(p.log_amplitude) * (1 + s5 + s5 * s5 / 3) * jnp.exp(-s5)


def _gram(x: jax.Array, p: GPParams, extra_noise: jax.Array) -> jax.Array:
    noise = jnp.exp(p.log_noise) + 1e-8 + extra_noise
    return matern52(x, x, p) + jnp.diag(noise)


def negative_log_likelihood(p: GPParams, x: jax.Array, y: jax.Array,
                            extra_noise: jax.Array) -> jax.Array:
    """-log p(y | x, p) of standardized y (n,); ``extra_noise`` (n,) is added per point."""
    p = _clip(p)
    chol = jnp.linalg.cholesky(_gram(x, p, extra_noise))
    alpha = jax.scipy.linalg.cho_solve((chol, True), y)
    return 0.5 * y @ alpha + jnp.sum(jnp.log(jnp.diag(chol))) + 0.5 * len(y) * jnp.log(2 * jnp.pi)


def fit(x: jax.Array, y: jax.Array, key: jax.Array, extra_noise: jax.Array | None = None,
        restarts: int = 8, steps: int = 200) -> GPParams:
    """Kernel hyperparameters maximizing the marginal likelihood of (x (n, d), y (n,)).

    ``y`` must be standardized; points with a huge ``extra_noise`` (n,) are padding and do not
    count. Call inside ``jax.enable_x64(True)``.
    """
    d = x.shape[1]
    keys = jax.random.split(key, 3)
    starts = GPParams(
        jax.random.uniform(keys[0], (restarts, d), minval=np.log(0.1), maxval=np.log(2.0)),
        jax.random.uniform(keys[1], (restarts,), minval=np.log(0.5), maxval=np.log(2.0)),
        jax.random.uniform(keys[2], (restarts,), minval=np.log(1e-4), maxval=np.log(1e-1)))
    extra_noise = jnp.zeros(x.shape[0]) if extra_noise is None else extra_noise
    tx = optax.adam(0.05)

    def descend(p0: GPParams) -> tuple[GPParams, jax.Array]:
        def step(carry, _):
            p, state = carry
            grads = jax.grad(negative_log_likelihood)(p, x, y, extra_noise)
            updates, state = tx.update(grads, state)
            return (_clip(optax.apply_updates(p, updates)), state), None

        (p, _), _ = jax.lax.scan(step, (p0, tx.init(p0)), length=steps)
        value = negative_log_likelihood(p, x, y, extra_noise)
        return p, jnp.where(jnp.isfinite(value), value, jnp.inf)

    fitted, values = jax.vmap(descend)(starts)
    return jax.tree_util.tree_map(lambda v: v[jnp.argmin(values)], fitted)


def posterior(p: GPParams, x: jax.Array, y: jax.Array, extra_noise: jax.Array,
              query: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Posterior mean and standard deviation, each (m,), at ``query`` (m, d)."""
    chol = jnp.linalg.cholesky(_gram(x, p, extra_noise))
    cross = matern52(x, query, p)
    mean = cross.T @ jax.scipy.linalg.cho_solve((chol, True), y)
    v = jax.scipy.linalg.solve_triangular(chol, cross, lower=True)
    variance = jnp.exp(p.log_amplitude) - jnp.sum(v * v, axis=0)
    return mean, jnp.sqrt(jnp.maximum(variance, 1e-12))


def expected_improvement(mean: jax.Array, std: jax.Array, best: jax.Array) -> jax.Array:
    """E[max(best - f, 0)] for f ~ N(mean, std^2): improvement of a minimum."""
    z = (best - mean) / std
    return std * (z * jax.scipy.stats.norm.cdf(z) + jax.scipy.stats.norm.pdf(z))


_PAD = 1e12  # noise variance of padding points: they carry no information


def propose_batch(x: np.ndarray, y: np.ndarray, candidates: np.ndarray, k: int,
                  seed: int) -> np.ndarray:
    """``k`` points of ``candidates`` (c, d) to evaluate next, minimizing y.

    Fits the GP to (x (n, d), y (n,)), then picks by expected improvement one point at a
    time, each time adding the pick with its posterior mean as a fantasized observation
    ("kriging believer", Ginsbourger et al. 2010) so that the batch spreads out. The
    observations are padded to a multiple of 32 with points of huge noise, so that one
    compiled program serves a whole sweep.

    Returns:
      int array (k,): distinct indices into ``candidates``.
    """
    n = len(y)
    size = -(-(n + k) // 32) * 32
    y = (y - np.mean(y)) / (np.std(y) + 1e-12)
    x_pad = np.zeros((size, x.shape[1]))
    x_pad[:n] = x
    y_pad = np.zeros(size)
    y_pad[:n] = y
    noise = np.full(size, _PAD)
    noise[:n] = 0.0
    with jax.enable_x64(True):
        chosen = _propose(jnp.asarray(x_pad), jnp.asarray(y_pad), jnp.asarray(noise),
                          jnp.asarray(candidates), jnp.asarray(n), k, jax.random.key(seed))
        return np.asarray(chosen)


@partial(jax.jit, static_argnums=5)
def _propose(x, y, noise, candidates, n, k, key):
    p = fit(x, y, key, noise)
    best = jnp.min(jnp.where(noise > 0, jnp.inf, y))

    def step(carry, i):
        x, y, noise, taken = carry
        mean, std = posterior(p, x, y, noise, candidates)
        score = jnp.where(taken, -jnp.inf, expected_improvement(mean, std, best))
        choice = jnp.argmax(score)
        x = x.at[n + i].set(candidates[choice])
        y = y.at[n + i].set(mean[choice])
        return (x, y, noise.at[n + i].set(0.0), taken.at[choice].set(True)), choice

    taken = jnp.zeros(candidates.shape[0], bool)
    _, chosen = jax.lax.scan(step, (x, y, noise, taken), jnp.arange(k))
    return chosen
