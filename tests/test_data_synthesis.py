import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdiag.data import DomainShift, load_digits
from jaxdiag.data.shift import _blur_matrix
from jaxdiag.data.synthesis import _blur_matrices, random_shift


@pytest.fixture(scope="module")
def images() -> jax.Array:
    return jnp.asarray(load_digits().x[:64])


def test_blur_matrices_are_apply_shifts_blur_per_sigma():
    sigmas = np.array([0.3, 0.7, 1.4])
    got = _blur_matrices(8, jnp.asarray(sigmas, jnp.float32))
    for matrix, sigma in zip(got, sigmas, strict=True):
        np.testing.assert_allclose(matrix, _blur_matrix(8, sigma), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(_blur_matrices(8, jnp.zeros(1))[0], np.eye(8), atol=1e-30)


def test_holding_every_parameter_out_changes_nothing(images):
    same = random_shift(jax.random.key(0), images, DomainShift(),
                        held_out=("blur", "contrast", "noise"))
    np.testing.assert_array_equal(same, images)


def test_each_image_gets_its_own_contrast_within_the_spread(images):
    shift = DomainShift(blur_sigma=0.7, contrast=0.7, noise_std=0.2)
    moved = np.asarray(random_shift(jax.random.key(1), images, shift,
                                    held_out=("blur", "noise")), np.float64)
    x = np.asarray(images, np.float64)
    centred = x - x.mean(axis=(1, 2, 3), keepdims=True)
    factors = (np.sum(centred * (moved - moved.mean(axis=(1, 2, 3), keepdims=True)),
                      axis=(1, 2, 3)) / np.sum(centred ** 2, axis=(1, 2, 3)))
    assert np.all(factors >= 1 - 1.5 * 0.3 - 1e-5) and np.all(factors <= 1 + 1e-5)
    assert np.std(factors) > 0.05  # drawn per image, uniform over [0.55, 1]: sd 0.13


def test_the_full_camera_is_random_per_key_and_keeps_shape_and_range(images):
    a = random_shift(jax.random.key(2), images, DomainShift())
    b = random_shift(jax.random.key(2), images, DomainShift())
    c = random_shift(jax.random.key(3), images, DomainShift())
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c) and a.shape == images.shape and a.dtype == images.dtype
    assert float(a.min()) >= float(images.min()) and float(a.max()) <= float(images.max())
    jitted = jax.jit(random_shift, static_argnums=(2, 3))(jax.random.key(2), images,
                                                          DomainShift(), ())
    np.testing.assert_allclose(jitted, a, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="held_out: expected names among"):
        random_shift(jax.random.key(0), images, DomainShift(), held_out=("colour",))
    with pytest.raises(ValueError, match=r"images: expected shape \(batch, h, w, c\)"):
        random_shift(jax.random.key(0), images.reshape(64, -1), DomainShift())
