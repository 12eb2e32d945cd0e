import itertools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdiag.data import load_digits, random_translations, with_random_translations


def translated(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """NumPy reference: ``image`` (h, w, c) moved down dy and right dx, filled with its min."""
    h, w, _ = image.shape
    out = np.full_like(image, image.min())
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        image[max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out


def offsets_of(images: np.ndarray, moved: np.ndarray, max_pixels: int) -> list[tuple]:
    """For each image, the offsets whose NumPy translation equals the moved image."""
    candidates = list(itertools.product(range(-max_pixels, max_pixels + 1), repeat=2))
    return [[o for o in candidates if np.array_equal(translated(image, *o), m)]
            for image, m in zip(images, moved, strict=True)]


@pytest.mark.parametrize("max_pixels", [1, 2])
def test_every_image_is_a_translation_of_itself_filled_with_its_minimum(max_pixels):
    images = load_digits().x[:400] - 3.0  # a background of -3, as after normalization
    moved = np.asarray(random_translations(jax.random.key(0), jnp.asarray(images), max_pixels))
    assert moved.shape == images.shape and moved.dtype == images.dtype
    found = offsets_of(images, moved, max_pixels)
    assert all(found), "an output is no translation of its input within max_pixels"
    # The draw covers the offsets: among 400 images every one of the 9 or 25 shows up.
    distinct = {o[0] for o in found if len(o) == 1}
    assert len(distinct) == (2 * max_pixels + 1) ** 2


def test_zero_pixels_and_the_key_decide_the_images():
    images = jnp.asarray(load_digits().x[:16])
    assert random_translations(jax.random.key(0), images, 0) is images
    first = random_translations(jax.random.key(1), images, 1)
    np.testing.assert_array_equal(first, random_translations(jax.random.key(1), images, 1))
    assert not np.array_equal(first, random_translations(jax.random.key(2), images, 1))


class State(NamedTuple):
    step: jax.Array


def test_the_step_sees_translations_drawn_from_its_step_number():
    images = jnp.asarray(load_digits().x[:32])
    step = jax.jit(with_random_translations(lambda state, x, labels: x, 1, jax.random.key(3)))
    seen = {s: np.asarray(step(State(jnp.asarray(s)), images, None)) for s in (0, 1)}
    np.testing.assert_array_equal(step(State(jnp.asarray(0)), images, None), seen[0])
    assert not np.array_equal(seen[0], seen[1])
    assert all(offsets_of(np.asarray(images), seen[1], 1))
