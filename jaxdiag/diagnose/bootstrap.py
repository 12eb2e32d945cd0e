"""The bootstrap over examples, vmapped: thousands of resamples in one compiled call.

A resample is represented by the count of each example in it, so that a statistic is any
function of per-example weights (an error rate, a ranking metric through
``kernels.reweighted_curve``, the difference of two models' metrics on the same resample).
The counts are Poisson(1), independent per example: the Poisson bootstrap, the large-n form of
drawing n examples with replacement (whose counts are Multinomial(n, 1/n), each Binomial(n,
1/n) -> Poisson(1)). Independent counts need no scatter and one 16-bit uniform per example, a
third of the multinomial's cost on the CPU; a statistic divides by the resample's size,
``counts.sum()``. For an error rate the count of mistakes in a classical resample is Binomial(n,
k / n) exactly, which ``resampled_mistakes`` draws directly, in O(resamples).

References:
  B. Efron and R. Tibshirani, An Introduction to the Bootstrap (1993), ch. 6 and 13 (the
  percentile interval); J. A. Hanley and B. MacGibbon, Creating non-parametric bootstrap
  samples using Poisson frequencies, Computer Methods and Programs in Biomedicine 83 (2006);
  N. Chamandy et al., Estimating uncertainty for massive data streams, Google (2012).
"""

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

BATCH = 64  # resamples per vmapped batch: bounds memory at BATCH x n weights
_LEVELS = 1 << 16
# P(Poisson(1) <= k) for k = 0..7 in units of 2**-16; above 7 has probability 1e-6
_POISSON_CDF = np.round(np.cumsum([math.exp(-1) / math.factorial(k) for k in range(8)])
                        * _LEVELS).astype(np.uint32)


def resample_counts(key: jax.Array, n: int) -> jax.Array:
    """How often each of n examples is drawn in one Poisson-bootstrap resample: float32 (n,)
    of independent Poisson(1) integers (0..8), from one 16-bit uniform each."""
    bits = jax.random.bits(key, ((n + 1) // 2,), jnp.uint32)
    uniform = jnp.concatenate([bits & (_LEVELS - 1), bits >> 16])[:n]
    return jnp.sum(uniform[:, None] >= jnp.asarray(_POISSON_CDF), axis=1, dtype=jnp.int32
                   ).astype(jnp.float32)


def bootstrap(statistic: Callable[[jax.Array], jax.Array], n: int, key: jax.Array,
              resamples: int = 2000, batch: int = BATCH) -> jax.Array:
    """``statistic(counts)`` on ``resamples`` bootstrap resamples of n examples.

    Args:
      statistic: maps float32 counts (n,) (see ``resample_counts``) to an array; jit- and
        vmap-compatible; a mean divides by ``counts.sum()``.
      n: the number of examples.
      key: the resamples' PRNG key.
      resamples: how many resamples; ``batch`` of them are vmapped at once (``lax.map``).

    Returns:
      the statistic of each resample, shape (resamples, *statistic's shape). Call it under
      ``jax.jit`` to make the whole bootstrap one compiled program.
    """
    keys = jax.random.split(key, resamples)
    return jax.lax.map(lambda k: statistic(resample_counts(k, n)), keys,
                       batch_size=min(batch, resamples))


def resampled_mistakes(key: jax.Array, mistakes: jax.Array, sizes: jax.Array,
                       resamples: int) -> jax.Array:
    """Bootstrap mistake counts of S splits with ``mistakes`` (S,) wrong out of ``sizes`` (S,):
    float32 integers (resamples, S), column s drawn from Binomial(sizes[s], mistakes[s] /
    sizes[s]), the number of mistakes in a resample of that split's examples."""
    sizes = jnp.asarray(sizes, jnp.float32)
    rate = jnp.asarray(mistakes, jnp.float32) / sizes
    return jax.random.binomial(key, sizes, rate, shape=(resamples, sizes.shape[0]))


def percentile_interval(samples: jax.Array | np.ndarray, confidence: float) -> tuple[float, float]:
    """The central ``confidence`` interval of bootstrap samples (the percentile interval):
    their (1 - confidence) / 2 and (1 + confidence) / 2 quantiles, as floats."""
    tail = (1.0 - confidence) / 2
    low, high = np.quantile(np.asarray(samples, np.float64), [tail, 1.0 - tail])
    return float(low), float(high)
