import jax
import numpy as np
import pytest

from jaxdiag.monitor import activation_stats, gradient_stats, histogram


def test_histogram_matches_numpy_over_the_batch_range():
    values = np.random.default_rng(0).normal(size=(50, 7)).astype(np.float32)
    counts, edges = jax.jit(histogram, static_argnums=1)(values, 12)
    expected, expected_edges = np.histogram(values, bins=12)
    np.testing.assert_allclose(edges, expected_edges, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(counts, expected)


def test_histogram_of_equal_values_or_with_a_nan_puts_every_count_in_the_first_bin():
    counts, edges = jax.jit(histogram, static_argnums=1)(np.zeros((33, 5), np.float32), 4)
    np.testing.assert_array_equal(counts, [165, 0, 0, 0])
    np.testing.assert_allclose(edges, [0, 0.25, 0.5, 0.75, 1.0])
    counts, edges = jax.jit(histogram, static_argnums=1)(np.array([1.0, np.nan, 2.0]), 4)
    np.testing.assert_array_equal(counts, [3, 0, 0, 0])
    assert np.isnan(edges).all()


@pytest.mark.parametrize("kind", ["relu", "tanh", "sigmoid", "none"])
def test_activation_stats_match_a_numpy_reference(kind):
    rng = np.random.default_rng(1)
    z = rng.normal(0, 3, (64, 20)).astype(np.float32)
    z[:, :5] = -np.abs(z[:, :5])  # five units never positive: dead after a ReLU
    s = jax.jit(activation_stats, static_argnums=(1, 2))(z, kind, 10)
    a = {"relu": np.maximum(z, 0), "tanh": np.tanh(z), "sigmoid": 1 / (1 + np.exp(-z)),
         "none": z}[kind].astype(np.float64)
    np.testing.assert_allclose([s.mean, s.std, s.min, s.max],
                               [a.mean(), a.std(), a.min(), a.max()], rtol=1e-4, atol=1e-6)
    assert float(s.zero_fraction) == pytest.approx((a == 0).mean())
    assert float(s.dead_fraction) == pytest.approx(((z <= 0).all(axis=0)).mean())
    saturated = {"tanh": (np.abs(a) > 0.97).mean(), "sigmoid": ((a < 0.03) | (a > 0.97)).mean()}
    assert float(s.saturated_fraction) == pytest.approx(saturated.get(kind, 0.0), abs=1e-6)
    assert float(s.histogram.sum()) == z.size
    if kind == "relu":
        assert float(s.dead_fraction) >= 0.25


def test_gradient_stats_and_the_update_to_parameter_ratio():
    grad = np.array([[0.0, 3.0], [-4.0, 0.0]], np.float32)
    param = np.array([[1.0, 2.0], [2.0, 4.0]], np.float32)  # norm 5
    update = np.full((2, 2), 0.0025, np.float32)  # norm 0.005
    s = jax.jit(gradient_stats)(grad, param, update)
    assert float(s.norm) == pytest.approx(5.0)
    assert float(s.max_abs) == 4.0 and float(s.zero_fraction) == 0.5
    assert float(s.update_ratio) == pytest.approx(1e-3)
    assert float(gradient_stats(grad, np.zeros_like(param), update).update_ratio) == 0.0
