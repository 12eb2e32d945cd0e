import numpy as np

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
