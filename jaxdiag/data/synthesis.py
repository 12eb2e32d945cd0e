"""Artificial data synthesis: target-like images made from source ones inside the jitted step.

Ng's remedy for a data mismatch when target data are scarce: synthesize training inputs that
look like the target (here, the built-in shift's worse camera: blur, lower contrast, sensor
noise), each example through its own random camera. His caveat: synthesizing from a tiny
subset of the possible variations overfits to it; ``held_out`` leaves a parameter out so an
experiment can measure that.
"""

import jax
import jax.numpy as jnp

from jaxdiag.checks import require
from jaxdiag.data.shift import DomainShift

SHIFT_PARAMETERS = ("blur", "contrast", "noise")
SPREAD = 1.5  # each parameter is drawn between none and this multiple of the shift's strength


def random_shift(key: jax.Array, images: jax.Array, shift: DomainShift,
                 held_out: tuple[str, ...] = (), spread: float = SPREAD) -> jax.Array:
    """Each image seen through its own random camera, drawn around ``shift``.

    Per image: a Gaussian blur of sigma ~ U(0, spread x blur_sigma), contrast ~ U(1 - spread x
    (1 - contrast), 1) (floored at 0.05) towards the image's own mean, Gaussian noise of
    std ~ U(0, spread x noise_std) x the batch's std; clipped to the batch's range, as
    ``apply_shift`` clips to the data's. Images normalized per channel shift as the raw ones do
    (blur and contrast are affine-equivariant, the noise is relative to the std).

    Args:
      key: PRNG key.
      images: float (b, h, w, c).
      shift: the target domain's shift.
      held_out: names among ``SHIFT_PARAMETERS`` not synthesized (static).
      spread: static, > 0.

    Returns:
      float array of the shape and dtype of ``images``.
    """
    require(images.ndim == 4, "images", "shape (batch, h, w, c)", images.shape)
    unknown = sorted(set(held_out) - set(SHIFT_PARAMETERS))
    require(not unknown, "held_out", f"names among {SHIFT_PARAMETERS}", unknown)
    b, h, w, _ = images.shape
    k_blur, k_contrast, k_noise, k_draw = jax.random.split(key, 4)
    low, high = images.min(), images.max()
    x = images
    if "blur" not in held_out and shift.blur_sigma > 0:
        sigma = jax.random.uniform(k_blur, (b,), maxval=spread * shift.blur_sigma)
        x = jnp.einsum("bih,bhwc,bjw->bijc", _blur_matrices(h, sigma), x,
                       _blur_matrices(w, sigma))
    if "contrast" not in held_out and shift.contrast < 1:
        contrast = jax.random.uniform(k_contrast, (b, 1, 1, 1),
                                      minval=max(0.05, 1 - spread * (1 - shift.contrast)))
        mean = x.mean(axis=(1, 2, 3), keepdims=True)
        x = mean + contrast * (x - mean)
    if "noise" not in held_out and shift.noise_std > 0:
        noise = jax.random.uniform(k_noise, (b, 1, 1, 1), maxval=spread * shift.noise_std)
        x = x + noise * images.std() * jax.random.normal(k_draw, x.shape)
    return jnp.clip(x, low, high).astype(images.dtype)


def _blur_matrices(size: int, sigma: jax.Array) -> jax.Array:
    """(b, size, size) Gaussian weights of each sigma (b,), rows summing to 1 (``apply_shift``'s
    blur); sigma near 0 gives the identity."""
    offsets = (jnp.arange(size)[:, None] - jnp.arange(size)[None, :]).astype(jnp.float32)
    weights = jnp.exp(-0.5 * (offsets / jnp.maximum(sigma, 1e-3)[:, None, None]) ** 2)
    return weights / weights.sum(axis=-1, keepdims=True)
