import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve

import jaxdiag.metrics as jm

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def reference_ece(y_true, y_prob, num_bins, weight):
    """float64 NumPy: bins (k/B, (k+1)/B], the first also holding 0."""
    confidence = y_prob.max(axis=1)
    correct = y_prob.argmax(axis=1) == y_true
    bins = np.clip(np.ceil(confidence * num_bins).astype(int) - 1, 0, num_bins - 1)
    ece = 0.0
    for b in range(num_bins):
        inside = bins == b
        if weight[inside].sum() > 0:
            w = weight[inside]
            gap = np.average(correct[inside], weights=w) - np.average(confidence[inside],
                                                                     weights=w)
            ece += w.sum() / weight.sum() * abs(gap)
    return ece


@SETTINGS
@given(seed=st.integers(0, 2**16), n=st.sampled_from([5, 50]), num_bins=st.sampled_from([1, 10]),
       weighted=st.booleans())
def test_ece_matches_float64_reference(tolerance, seed, n, num_bins, weighted):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 3, n)
    y_prob = rng.dirichlet(np.ones(3), n)
    weight = rng.uniform(0.1, 2, n) if weighted else np.ones(n)
    got = jm.expected_calibration_error(y_true, y_prob, num_bins=num_bins,
                                        sample_weight=weight if weighted else None,
                                        labels=range(3))
    np.testing.assert_allclose(float(got), reference_ece(y_true, y_prob, num_bins, weight),
                               rtol=tolerance, atol=tolerance)


def test_reliability_table_agrees_with_sklearn_calibration_curve_for_confidences():
    rng = np.random.default_rng(0)
    n = 2000
    y_prob = rng.dirichlet(np.ones(4), n)
    y_true = np.array([rng.choice(4, p=p) for p in y_prob])  # calibrated by construction
    table = jm.reliability_table(y_true, y_prob, num_bins=10)
    correct = (y_prob.argmax(1) == y_true).astype(int)
    accuracy, confidence = calibration_curve(correct, y_prob.max(1), n_bins=10)
    filled = np.asarray(table.weight) > 0
    np.testing.assert_allclose(np.asarray(table.accuracy)[filled], accuracy, atol=1e-6)
    np.testing.assert_allclose(np.asarray(table.confidence)[filled], confidence, atol=1e-6)
    assert float(jm.expected_calibration_error(y_true, y_prob, num_bins=10)) < 0.05


def test_overconfident_model_has_large_ece_and_jit_works():
    y_true = np.array([1, 1, 0, 0])  # every confident prediction is wrong
    y_prob = np.array([[0.99, 0.01], [0.99, 0.01], [0.01, 0.99], [0.01, 0.99]])
    assert abs(float(jax.jit(jm.expected_calibration_error)(y_true, y_prob)) - 0.99) < 1e-6
    with pytest.raises(ValueError, match="num_bins: expected a positive int, found 0"):
        jm.expected_calibration_error(y_true, y_prob, num_bins=0)
