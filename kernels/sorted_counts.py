"""Sort scores in descending order and accumulate label counts: the core of an exact curve.

Scores become unsigned integer keys whose ascending order is the descending score order (one
fused XLA pass). On the CPU backend the sort and the running sums run on the host through
``jax.pure_callback``, because XLA's CPU sort and cumulative scans are several times slower than
NumPy's: float32 keys and 0/1 labels are packed into one uint64 and sorted once with no gather,
and the rows of a vmapped batch are split over the cores. Other backends use ``lax.sort`` and
``lax`` scans as they are (a radix sort on GPU). Both paths are jit- and vmap-compatible.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .host_blocks import as_rows, for_row_blocks


class SortedCounts(NamedTuple):
    """Running label counts over scores sorted in descending order; every field shape (n,).

    Attributes:
      key: unsigned int array (uint32 for float32 scores): the sorted scores as ``descending_key``
        keys; equal keys are equal scores.
      tps: weight of positives up to and including each point (int32 without weights).
      fps: weight of negatives up to and including each point.
      tps_before: ``tps`` at the last point of the previous group of tied scores; 0 in the first.
      fps_before: the same for ``fps``.
    """

    key: jax.Array
    tps: jax.Array
    fps: jax.Array
    tps_before: jax.Array
    fps_before: jax.Array


def _key_parts(dtype) -> tuple[type, np.unsignedinteger, np.unsignedinteger]:
    uint = {2: jnp.uint16, 4: jnp.uint32, 8: jnp.uint64}[jnp.dtype(dtype).itemsize]
    bits = 8 * jnp.dtype(dtype).itemsize
    return uint, uint(1 << (bits - 1)), uint((1 << (bits - 1)) - 1)


def descending_key(score: jax.Array) -> jax.Array:
    """Unsigned keys, same width as ``score``, ascending in the order of decreasing score.

    -0.0 and +0.0 get the same key; NaN sorts before +inf.
    """
    uint, sign, rest = _key_parts(score.dtype)
    zero = jnp.zeros((), score.dtype)
    # -0.0 == 0.0 selects +0.0 (XLA folds away the usual ``score + 0.0`` under jit).
    bits = lax.bitcast_convert_type(jnp.where(score == zero, zero, score), uint)
    return jnp.where(bits & sign, bits, bits ^ rest)


def score_from_key(key: jax.Array, dtype) -> jax.Array:
    """The inverse of ``descending_key``: the ``dtype`` score of each key."""
    _, sign, rest = _key_parts(dtype)
    return lax.bitcast_convert_type(jnp.where(key & sign, key, key ^ rest), dtype)


def _before(values: np.ndarray, last: np.ndarray) -> np.ndarray:
    """``values`` (non-decreasing along the last axis) at the previous group end; 0 before."""
    at_ends = np.where(last, values, 0)
    out = np.zeros_like(values)
    np.maximum.accumulate(at_ends[..., :-1], axis=-1, out=out[..., 1:])
    return out


def sort_packed(key: np.ndarray, label: np.ndarray) -> np.ndarray:
    """Keys of at most 32 bits and 0/1 labels as ``key << 1 | label`` uint64, sorted along the
    last axis: one sort with no gather, ties ordered negatives first."""
    packed = np.left_shift(key, 1, dtype=np.uint64)
    packed |= label
    packed.sort(axis=-1)
    return packed


def _host_rows(key: np.ndarray, label: np.ndarray, weight: np.ndarray | None) -> tuple:
    """NumPy counts of 2-D (rows, n) inputs, sorted along the last axis."""
    n = key.shape[-1]
    if weight is None and key.dtype == np.uint32:
        packed = sort_packed(key, label)
        key = (packed >> np.uint64(1)).astype(np.uint32)
        tps = np.cumsum(packed & np.uint64(1), axis=-1, dtype=np.int32)
    else:
        order = np.argsort(key, axis=-1)
        key = np.take_along_axis(key, order, axis=-1)
        label = np.take_along_axis(label, order, axis=-1)
        if weight is None:
            tps = np.cumsum(label, axis=-1, dtype=np.int32)
    if weight is None:
        fps = np.arange(1, n + 1, dtype=np.int32) - tps
    else:
        weight = np.take_along_axis(weight, order, axis=-1)
        positive = weight * label
        tps = np.cumsum(positive, axis=-1)
        fps = np.cumsum(weight - positive, axis=-1)
    last = np.ones(key.shape, bool)
    np.not_equal(key[..., 1:], key[..., :-1], out=last[..., :-1])
    return key, tps, fps, _before(tps, last), _before(fps, last)


def _host_counts(key, label, *weight):
    """``_host_rows`` over any leading batch shape, in blocks of rows spread over the cores."""
    batch, rows = as_rows(key, label, *weight)
    count, n = rows[0].shape
    count_dtype = rows[2].dtype if weight else np.int32
    outs = (np.empty((count, n), rows[0].dtype),
            *(np.empty((count, n), count_dtype) for _ in range(4)))

    def work(block: slice) -> None:
        part = [a[block] for a in rows]
        for out, value in zip(outs, _host_rows(*part[:2], part[2] if weight else None),
                              strict=True):
            out[block] = value

    for_row_blocks(count, n, work)
    return tuple(out.reshape(*batch, n) for out in outs)


def _device_counts(key, label, *weight):
    key, label, *weight = lax.sort((key, label, *weight), num_keys=1)
    if weight:
        positive = weight[0] * label
        tps, fps = jnp.cumsum(positive), jnp.cumsum(weight[0] - positive)
    else:
        tps = jnp.cumsum(label, dtype=jnp.int32)
        fps = jnp.arange(1, key.shape[0] + 1, dtype=jnp.int32) - tps
    last = jnp.append(key[1:] != key[:-1], True)

    def before(values):
        running = lax.cummax(jnp.where(last, values, jnp.zeros((), values.dtype)))
        return jnp.concatenate([jnp.zeros((1,), values.dtype), running[:-1]])

    return key, tps, fps, before(tps), before(fps)


def sorted_counts(
    score: jax.Array, label: jax.Array, weight: jax.Array | None = None
) -> SortedCounts:
    """Sort ``score`` in descending order and count the labels and weights at every point.

    Args:
      score: float array, shape (n,). NaN sorts first.
      label: uint8 array of 0/1, shape (n,).
      weight: optional non-negative float array, shape (n,).

    Returns:
      ``SortedCounts``; counts are int32 without weights and ``weight.dtype`` with them. The
      order inside a group of tied scores is unspecified; counts at group ends are exact.
    """
    key = descending_key(score)
    operands = (key, label) if weight is None else (key, label, weight)
    count = jnp.int32 if weight is None else weight.dtype
    shapes = (jax.ShapeDtypeStruct(key.shape, key.dtype),
              *(jax.ShapeDtypeStruct(key.shape, count) for _ in range(4)))

    def on_host(*args):
        return jax.pure_callback(_host_counts, shapes, *args, vmap_method="broadcast_all")

    return SortedCounts(*lax.platform_dependent(*operands, cpu=on_host, default=_device_counts))
