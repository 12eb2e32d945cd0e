import numpy as np
import pytest

from jaxdiag.data import DomainShift, apply_shift


def _images(seed=0, n=20):
    return np.random.default_rng(seed).uniform(0, 16, (n, 8, 8, 1)).astype(np.float32)


def test_identity_shift_returns_the_input():
    x = _images()
    np.testing.assert_allclose(apply_shift(x, DomainShift(0.0, 1.0, 0.0), seed=0), x, atol=1e-5)


def test_blur_matches_a_float64_gaussian_reference():
    x = _images()
    sigma = 0.7
    out = apply_shift(x, DomainShift(sigma, 1.0, 0.0), seed=0)
    offsets = np.arange(8)[:, None] - np.arange(8)[None, :]
    g = np.exp(-0.5 * (offsets / sigma) ** 2)
    g /= g.sum(axis=1, keepdims=True)
    expected = np.stack([g @ img[..., 0].astype(np.float64) @ g.T for img in x])[..., None]
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-4)


def test_contrast_pulls_each_example_to_its_mean_and_noise_follows_the_seed():
    x = _images()
    low = apply_shift(x, DomainShift(0.0, 0.5, 0.0), seed=0)
    np.testing.assert_allclose(low.mean(axis=(1, 2, 3)), x.mean(axis=(1, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(low.std(axis=(1, 2, 3)), 0.5 * x.std(axis=(1, 2, 3)), rtol=1e-4)
    noisy = DomainShift(0.0, 1.0, 0.1)
    np.testing.assert_array_equal(apply_shift(x, noisy, seed=3), apply_shift(x, noisy, seed=3))
    assert not np.array_equal(apply_shift(x, noisy, seed=3), apply_shift(x, noisy, seed=4))
    out = apply_shift(x, DomainShift(0.0, 1.0, 5.0), seed=0)
    assert out.min() >= x.min() and out.max() <= x.max()


def test_tabular_inputs_are_not_blurred():
    x = np.random.default_rng(0).normal(size=(10, 5)).astype(np.float32)
    np.testing.assert_allclose(apply_shift(x, DomainShift(2.0, 1.0, 0.0), seed=0), x, atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"blur_sigma": -1}, "blur_sigma"), ({"contrast": 0}, "contrast"),
     ({"contrast": 1.5}, "contrast"), ({"noise_std": -0.1}, "noise_std")],
)
def test_bad_shift_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DomainShift(**kwargs)
