import numpy as np
import pytest

from jaxdiag.data import fit_normalizer, normalize


def test_tabular_per_feature_statistics_match_float64_numpy():
    x = np.random.default_rng(0).normal(3.0, 2.0, (500, 4)).astype(np.float32)
    x[:, 2] = 7.0  # constant feature: centred, scale 1 (as sklearn's StandardScaler)
    z = normalize(x, fit_normalizer(x))
    ref = x.astype(np.float64)
    std = ref.std(axis=0)
    std[2] = 1.0
    np.testing.assert_allclose(z, (ref - ref.mean(axis=0)) / std, rtol=1e-5, atol=1e-5)
    assert z.dtype == np.float32


def test_images_are_normalized_per_channel():
    x = np.random.default_rng(1).uniform(0, 16, (50, 8, 8, 2)).astype(np.float32)
    normalizer = fit_normalizer(x)
    assert normalizer.mean.shape == (2,)
    z = normalize(x, normalizer)
    np.testing.assert_allclose(z.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=(0, 1, 2)), 1, rtol=1e-5)


def test_statistics_over_blocks_of_rows_are_numpys_float64_ones(monkeypatch):
    """Blocks bound the memory (x.std in float64 made a float64 copy of x); merged, they give
    NumPy's float64 statistics, per channel of images."""
    import importlib

    normalize_module = importlib.import_module("jaxdiag.data.normalize")  # not the function

    rng = np.random.default_rng(4)
    x = rng.normal(3.0, 2.0, (101, 4, 4, 3)).astype(np.float32)
    monkeypatch.setattr(normalize_module, "ROWS", 7)
    blocks = normalize_module.fit_normalizer(x)
    np.testing.assert_allclose(blocks.mean, x.mean(axis=(0, 1, 2), dtype=np.float64), rtol=1e-6)
    np.testing.assert_allclose(blocks.std, x.std(axis=(0, 1, 2), dtype=np.float64), rtol=1e-6)


def test_in_place_gives_the_same_numbers_and_refuses_what_it_cannot_overwrite():
    x = np.random.default_rng(2).normal(1.0, 3.0, (40, 5)).astype(np.float32)
    normalizer = fit_normalizer(x)
    expected = normalize(x, normalizer)
    own = x.copy()
    assert normalize(own, normalizer, in_place=True) is own
    np.testing.assert_array_equal(own, expected)
    frozen = x.copy()
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match=r"x: expected a writeable float32 array .* found a "
                                         r"read-only float32"):
        normalize(frozen, normalizer, in_place=True)
    with pytest.raises(ValueError, match="found float64"):
        normalize(x.astype(np.float64), normalizer, in_place=True)
    np.testing.assert_array_equal(frozen, x)  # left as it was
