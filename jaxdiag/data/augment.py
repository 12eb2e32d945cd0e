"""Training-time data augmentation: random translations of images, inside the jitted step."""

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp


def random_translations(key: jax.Array, images: jax.Array, max_pixels: int) -> jax.Array:
    """Each image moved by its own random offset of up to ``max_pixels`` along each axis.

    Args:
      key: PRNG key; the offsets are uniform integers in [-max_pixels, max_pixels].
      images: float array of shape (batch, h, w, c).
      max_pixels: static, >= 0.

    Returns:
      Array of the shape and dtype of ``images``; the pixels moved in from outside take
      the image's own minimum (its background for digits, before or after normalization).
    """
    if max_pixels == 0:
        return images
    batch, h, w, _ = images.shape
    background = images.min(axis=(1, 2, 3), keepdims=True)
    pad = ((0, 0), (max_pixels, max_pixels), (max_pixels, max_pixels), (0, 0))
    padded = jnp.pad(images - background, pad) + background
    offsets = jax.random.randint(key, (batch, 2), 0, 2 * max_pixels + 1)

    def crop(image: jax.Array, offset: jax.Array) -> jax.Array:
        return jax.lax.dynamic_slice(image, (offset[0], offset[1], 0), (h, w, image.shape[-1]))

    return jax.vmap(crop)(padded, offsets)


def with_random_translations(step: Callable[..., Any], max_pixels: int, key: jax.Array
                             ) -> Callable[..., Any]:
    """``step(state, x, labels)`` that sees ``x`` randomly translated (``random_translations``).

    The offsets are drawn from ``fold_in(key, state.step)``, so they depend only on the key
    and the step number: a resumed run sees the images of an uninterrupted one.
    """

    def translated_step(state: Any, x: jax.Array, labels: Any) -> Any:
        moved = random_translations(jax.random.fold_in(key, state.step), x, max_pixels)
        return step(state, moved, labels)

    return translated_step
