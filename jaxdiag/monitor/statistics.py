"""Per-layer activation and per-leaf gradient statistics: pytrees of arrays, computed in jit.

References:
  Goodfellow, Bengio and Courville, Deep Learning (2016), 11.5: "monitor histograms of
  activations and gradient"; the update-to-parameter ratio of about 1e-3 is from Karpathy's
  CS231n notes ("Babysitting the learning process").
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp

TANH_SATURATED = 0.97  # |tanh(z)| above this is saturated
SIGMOID_SATURATED = 0.03  # sigmoid(z) within this of 0 or 1 is saturated


class ActivationStats(NamedTuple):
    """Statistics of one layer's activations over a batch; scalars unless noted.

    Attributes:
      mean, std, min, max: of the activation (after the layer's activation function).
      zero_fraction: fraction of activations exactly zero.
      dead_fraction: fraction of units (last axis) zero for every example of the batch; only
        meaningful after a ReLU.
      saturated_fraction: fraction in the flat part of tanh / sigmoid; 0 for other functions.
      histogram: float32 counts, shape (bins,), of the activations between ``edges``.
      edges: shape (bins + 1,), from the batch minimum to its maximum.
    """

    mean: jax.Array
    std: jax.Array
    min: jax.Array
    max: jax.Array
    zero_fraction: jax.Array
    dead_fraction: jax.Array
    saturated_fraction: jax.Array
    histogram: jax.Array
    edges: jax.Array


class GradientStats(NamedTuple):
    """Statistics of one parameter leaf's gradient and update; scalars.

    Attributes:
      norm: L2 norm of the gradient.
      max_abs: largest absolute entry.
      zero_fraction: fraction of entries exactly zero.
      update_ratio: ||delta theta|| / ||theta|| of the optimizer's update (0 where theta is 0).
    """

    norm: jax.Array
    max_abs: jax.Array
    zero_fraction: jax.Array
    update_ratio: jax.Array


def _apply(kind: str, z: jax.Array) -> jax.Array:
    return {"relu": jax.nn.relu, "tanh": jnp.tanh, "sigmoid": jax.nn.sigmoid}.get(
        kind, lambda v: v)(z)


def histogram(values: jax.Array, bins: int, lanes: int = 32) -> tuple[jax.Array, jax.Array]:
    """``(counts, edges)``: float32 counts of shape (bins,) over [min, max] of ``values``.

    Values all equal, or any NaN (then the edges are NaN), put every count in the first bin.
    Otherwise the counts are scattered into ``lanes`` interleaved sub-histograms (element i
    into lane i % lanes) and summed at the end: consecutive elements then add to different
    addresses, which removes the chain of read-modify-writes on one bin that serializes a
    scatter-add on the CPU and the atomic contention on a GPU. The ``lax.cond`` on that case
    also makes XLA write ``values`` to a buffer first: fused into the scatter's index
    computation, an elementwise producer with a broadcast (a layer's bias) is not vectorized
    on the CPU and costs 3x the whole histogram.
    """
    rows = values.reshape(-1, values.shape[-1] if values.ndim else 1).astype(jnp.float32)
    low, high = rows.min(), rows.max()
    varied = high > low  # False when equal or NaN
    width = jnp.where(varied, high - low, 1.0)

    def spread(rows: jax.Array) -> jax.Array:
        index = jnp.clip(((rows - low) * (bins / width)).astype(jnp.int32), 0, bins - 1)
        lane = (jax.lax.broadcasted_iota(jnp.int32, rows.shape, 0) * rows.shape[1]
                + jax.lax.broadcasted_iota(jnp.int32, rows.shape, 1)) % lanes
        counts = jnp.zeros(lanes * bins, jnp.int32).at[lane * bins + index].add(
            1, mode="promise_in_bounds")
        return counts.reshape(lanes, bins).sum(0)

    def all_equal(rows: jax.Array) -> jax.Array:
        return jnp.zeros(bins, jnp.int32).at[0].set(rows.size)

    counts = jax.lax.cond(varied, spread, all_equal, rows).astype(jnp.float32)
    return counts, low + width * jnp.linspace(0.0, 1.0, bins + 1)


def activation_stats(output: jax.Array, kind: str, bins: int = 30) -> ActivationStats:
    """Statistics of a layer whose ``output`` (shape (batch, ..., units)) goes through ``kind``.

    Args:
      output: the layer's output before its activation function, float array.
      kind: "relu", "tanh", "sigmoid" or "none" (see ``activation_kinds``).
      bins: static number of histogram bins.

    Returns:
      ``ActivationStats`` of the activations ``kind(output)``.
    """
    z = jax.lax.stop_gradient(output).astype(jnp.float32)
    a = _apply(kind, z)
    units = z.reshape(-1, z.shape[-1])
    if kind == "tanh":
        saturated = jnp.mean(jnp.abs(a) > TANH_SATURATED)
    elif kind == "sigmoid":
        saturated = jnp.mean(jnp.abs(a - 0.5) > 0.5 - SIGMOID_SATURATED)
    else:
        saturated = jnp.zeros((), jnp.float32)
    counts, edges = histogram(a, bins)
    return ActivationStats(
        mean=a.mean(), std=a.std(), min=a.min(), max=a.max(),
        zero_fraction=jnp.mean(a == 0), dead_fraction=jnp.mean(jnp.all(units <= 0, axis=0)),
        saturated_fraction=saturated.astype(jnp.float32), histogram=counts, edges=edges)


def gradient_stats(grad: jax.Array, param: jax.Array, update: jax.Array) -> GradientStats:
    """Statistics of one leaf: its gradient, its value before the step and the step's update."""
    g = grad.astype(jnp.float32)
    param_norm = jnp.linalg.norm(param.astype(jnp.float32).reshape(-1))
    update_norm = jnp.linalg.norm(update.astype(jnp.float32).reshape(-1))
    return GradientStats(
        norm=jnp.linalg.norm(g.reshape(-1)), max_abs=jnp.max(jnp.abs(g)),
        zero_fraction=jnp.mean(g == 0),
        update_ratio=jnp.where(param_norm > 0, update_norm / jnp.where(param_norm > 0,
                                                                       param_norm, 1), 0.0))


def leaf_gradient_stats(grads, params, updates) -> dict[str, GradientStats]:
    """``gradient_stats`` of every leaf of three same-structure pytrees, keyed by leaf path."""
    with_paths = jax.tree_util.tree_flatten_with_path(grads)[0]
    return {jax.tree_util.keystr(path, simple=True, separator="/"): gradient_stats(g, p, u)
            for (path, g), p, u in zip(with_paths, jax.tree_util.tree_leaves(params),
                                       jax.tree_util.tree_leaves(updates), strict=True)}
