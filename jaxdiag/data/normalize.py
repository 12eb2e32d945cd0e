"""Input normalization from training-set statistics."""

from typing import NamedTuple

import numpy as np


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


def fit_normalizer(x: np.ndarray) -> Normalizer:
    """Statistics of ``x`` (float array, shape (n, d) or (n, h, w, c))."""
    axes = tuple(range(x.ndim - 1))
    mean = x.mean(axis=axes, dtype=np.float64)
    std = x.std(axis=axes, dtype=np.float64)
    std = np.where(std > 0, std, 1.0)
    return Normalizer(mean.astype(np.float32), std.astype(np.float32))


def normalize(x: np.ndarray, normalizer: Normalizer) -> np.ndarray:
    """``(x - mean) / std`` as float32, same shape as ``x``: one new array, computed in place
    (no temporaries the size of ``x``)."""
    out = np.subtract(x, normalizer.mean, dtype=np.float32)
    out /= normalizer.std
    return out
