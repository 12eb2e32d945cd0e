"""A synthetic target domain: the "mobile photos" of Ng's web-vs-mobile example.

The same examples as the source domain, seen through a worse camera: blurred, with lower
contrast and sensor noise. Training on the source and evaluating on this shift makes a
data-mismatch gap that a train-dev split (source distribution) separates from variance.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DomainShift:
    """How the target domain differs from the source.

    Attributes:
      blur_sigma: standard deviation, in pixels, of a Gaussian blur of image inputs
        (shape (n, h, w, c)); 0 for none. Tabular inputs are not blurred.
      contrast: factor in (0, 1] that pulls each example towards its own mean; 1 for none.
      noise_std: standard deviation of additive Gaussian noise, as a fraction of the
        standard deviation of all inputs; 0 for none.
    """

    blur_sigma: float = 0.7
    contrast: float = 0.7
    noise_std: float = 0.2

    def __post_init__(self):
        if self.blur_sigma < 0:
            raise ValueError(f"blur_sigma: expected >= 0, found {self.blur_sigma}.")
        if not 0 < self.contrast <= 1:
            raise ValueError(f"contrast: expected a value in (0, 1], found {self.contrast}.")
        if self.noise_std < 0:
            raise ValueError(f"noise_std: expected >= 0, found {self.noise_std}.")


def apply_shift(x: np.ndarray, shift: DomainShift, seed: int) -> np.ndarray:
    """Moves inputs into the target domain.

    Args:
      x: float array, shape (n, d) or (n, h, w, c).
      shift: the blur, contrast and noise to apply.
      seed: seed of the noise; the same seed gives the same array.

    Returns:
      float32 array of the shape of ``x``, clipped to the range of ``x``.
    """
    x = np.asarray(x, np.float64)
    low, high, scale = x.min(), x.max(), x.std()
    if x.ndim == 4 and shift.blur_sigma > 0:
        rows = _blur_matrix(x.shape[1], shift.blur_sigma)
        cols = _blur_matrix(x.shape[2], shift.blur_sigma)
        x = np.einsum("ih,nhwc,jw->nijc", rows, x, cols)
    axes = tuple(range(1, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    x = mean + shift.contrast * (x - mean)
    x = x + np.random.default_rng(seed).normal(0.0, shift.noise_std * scale, x.shape)
    return np.clip(x, low, high).astype(np.float32)


def _blur_matrix(size: int, sigma: float) -> np.ndarray:
    """(size, size) Gaussian weights, each row summing to 1 so edges keep their brightness."""
    offsets = np.arange(size)[:, None] - np.arange(size)[None, :]
    weights = np.exp(-0.5 * (offsets / sigma) ** 2)
    return weights / weights.sum(axis=1, keepdims=True)
