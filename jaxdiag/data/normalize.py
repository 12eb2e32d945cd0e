"""Input normalization from training-set statistics."""

from typing import NamedTuple

import numpy as np

from jaxdiag.data.aligned import empty_aligned


class Normalizer(NamedTuple):
    """Mean and standard deviation that map inputs to zero mean and unit variance.

    Attributes:
      mean: float32 array broadcastable to one example: shape (c,) for images
        (per channel), (d,) for tabular data (per feature).
      std: float32 array of the same shape; features constant in training get 1 (as
        scikit-learn's StandardScaler does), so they are centred but not blown up.
    """

    mean: np.ndarray
    std: np.ndarray


ROWS = 65_536  # examples whose statistics are computed at once


def fit_normalizer(x: np.ndarray) -> Normalizer:
    """Statistics of ``x`` (float array, shape (n, d) or (n, h, w, c)), in float64, a block of
    ``ROWS`` examples at a time merged by Chan's update (``x.std`` in float64 made a float64
    copy of x: 3.2 GB for 800k x 784); one block gives NumPy's numbers."""
    axes = tuple(range(x.ndim - 1))
    count, mean, m2 = 0, 0.0, 0.0
    for start in range(0, len(x), ROWS):
        block = x[start:start + ROWS]
        size = block.size // block.shape[-1]
        block_mean = block.mean(axis=axes, dtype=np.float64)
        block_m2 = block.var(axis=axes, dtype=np.float64) * size
        delta, total = block_mean - mean, count + size
        mean, m2 = mean + delta * (size / total), m2 + block_m2 + delta**2 * count * (size / total)
        count = total
    std = np.sqrt(m2 / count)
    std = np.where(std > 0, std, 1.0)
    return Normalizer(np.asarray(mean).astype(np.float32), std.astype(np.float32))


def normalize(x: np.ndarray, normalizer: Normalizer, in_place: bool = False) -> np.ndarray:
    """``(x - mean) / std`` as float32, same shape as ``x``: one new array (aligned for JAX's
    CPU backend, ``empty_aligned``), computed in place (no temporaries the size of ``x``);
    with ``in_place``, ``x`` itself (float32, writeable), overwritten."""
    if in_place:
        if x.dtype != np.float32 or not x.flags.writeable:
            raise ValueError(f"x: expected a writeable float32 array to normalize in place, "
                             f"found {'a read-only ' if not x.flags.writeable else ''}{x.dtype}.")
        out = x
    else:
        out = empty_aligned(x.shape, np.float32)
    np.subtract(x, normalizer.mean, out=out, dtype=np.float32)
    out /= normalizer.std
    return out
