"""Sort scores in descending order together with their labels and weights.

XLA's CPU sort is several times slower than NumPy's vectorized sort, so on the CPU backend
the sort runs on the host through ``jax.pure_callback``: float32 scores and their 0/1 labels
are packed into one uint64 key (order-preserving score bits, then the label bit) and sorted
once, with no gather. On other backends ``lax.sort`` is used as it is (a radix sort on GPU).
Both paths are jit- and vmap-compatible; under vmap the host sort handles the batch in one call.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

_SIGN32 = np.uint32(0x80000000)


def _orderable_bits(score: np.ndarray) -> np.ndarray:
    """uint32 keys whose unsigned order is the float32 order of ``score``."""
    bits = score.view(np.uint32)
    return np.where(bits & _SIGN32, ~bits, bits | _SIGN32)


def _float_from_orderable(key: np.ndarray) -> np.ndarray:
    bits = np.where(key & _SIGN32, key & ~_SIGN32, ~key)
    return bits.view(np.float32)


def _host_sort(score, label, *weight):
    """NumPy sort along the last axis, descending by score."""
    score = np.asarray(score)
    label = np.asarray(label)
    score = score + score.dtype.type(0)  # -0.0 and +0.0 are the same threshold
    if score.dtype == np.float32 and not weight:
        packed = (_orderable_bits(score).astype(np.uint64) << np.uint64(1)) | label.astype(
            np.uint64
        )
        packed = np.sort(packed, axis=-1)[..., ::-1]
        sorted_label = (packed & np.uint64(1)).astype(label.dtype)
        sorted_score = _float_from_orderable((packed >> np.uint64(1)).astype(np.uint32))
        return sorted_score, sorted_label
    order = np.argsort(score, axis=-1)[..., ::-1]
    out = [np.take_along_axis(a, order, axis=-1) for a in (score, label, *weight)]
    return tuple(out)


def _device_sort(score, label, *weight):
    score = score + jnp.zeros((), score.dtype)
    operands = lax.sort((-score, label, *weight), num_keys=1)
    return (-operands[0], *operands[1:])


def sort_by_score(
    score: jax.Array, label: jax.Array, weight: jax.Array | None = None
) -> tuple[jax.Array, ...]:
    """Sort ``score`` in descending order, carrying ``label`` (and ``weight``) along.

    Args:
      score: float array, shape (n,). NaN sorts to an unspecified place.
      label: uint8 array of 0/1, shape (n,).
      weight: optional float array, shape (n,).

    Returns:
      ``(score, label)`` or ``(score, label, weight)``, each shape (n,), sorted so that
      ``score`` is non-increasing. The order inside a group of tied scores is unspecified.
    """
    operands = (score, label) if weight is None else (score, label, weight)
    shapes = tuple(jax.ShapeDtypeStruct(a.shape, a.dtype) for a in operands)

    def on_host(*args):
        return jax.pure_callback(_host_sort, shapes, *args, vmap_method="broadcast_all")

    return lax.platform_dependent(*operands, cpu=on_host, default=_device_sort)
