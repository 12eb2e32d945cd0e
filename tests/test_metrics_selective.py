import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jaxdiag.metrics as jm

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def reference_points(y_true, y_score, weight):
    """Brute force in float64: keep confidence >= t for every distinct confidence t."""
    confidence = y_score.max(axis=1)
    correct = y_score.argmax(axis=1) == y_true
    points = []
    for t in np.unique(confidence)[::-1]:
        kept = confidence >= t
        if weight[kept].sum() > 0:
            points.append((weight[kept].sum() / weight.sum(),
                           1 - (weight * correct)[kept].sum() / weight[kept].sum(), t))
    return np.array(points)


@SETTINGS
@given(seed=st.integers(0, 2**16), n=st.sampled_from([3, 40]), weighted=st.booleans(),
       target=st.sampled_from([0.3, 0.5, 0.9, 1.0]))
def test_risk_coverage_matches_brute_force(tolerance, seed, n, weighted, target):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 3, n)
    y_score = rng.integers(1, 6, (n, 3)) / 5  # coarse: tied confidences
    weight = rng.uniform(0.1, 2, n) if weighted else np.ones(n)
    expected = reference_points(y_true, y_score, weight)
    got = jm.risk_coverage_curve(y_true, y_score, sample_weight=weight if weighted else None,
                                 labels=range(3))
    np.testing.assert_allclose(np.stack([np.asarray(g, np.float64) for g in got], 1), expected,
                               rtol=tolerance, atol=tolerance)
    coverage, risk = expected[:, 0], expected[:, 1]
    first = np.argmax(coverage >= target - 1e-12)
    assert abs(float(jm.accuracy_at_coverage(y_true, y_score, coverage=target,
                                             sample_weight=weight, labels=range(3)))
               - (1 - risk[first])) < tolerance
    reachable = coverage[(1 - risk) >= target - 1e-12]
    assert abs(float(jm.coverage_at_accuracy(y_true, y_score, accuracy=target,
                                             sample_weight=weight, labels=range(3)))
               - (reachable.max() if len(reachable) else 0.0)) < tolerance


def test_street_view_style_operating_point():
    rng = np.random.default_rng(0)
    n = 10_000
    y_true = rng.integers(0, 10, n)
    confident = rng.random(n) < 0.96
    predicted = np.where(confident & (rng.random(n) < 0.99), y_true, rng.integers(0, 10, n))
    confidence = np.where(confident, rng.uniform(0.9, 1, n), rng.uniform(0.1, 0.5, n))
    y_score = np.full((n, 10), 0.0)
    y_score[np.arange(n), predicted] = confidence
    assert float(jm.accuracy_at_coverage(y_true, y_score, coverage=0.95)) >= 0.98
    assert float(jm.coverage_at_accuracy(y_true, y_score, accuracy=0.98)) >= 0.95


def test_jit_and_errors():
    y_true = np.array([0, 1, 1])
    y_score = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    got = jax.jit(lambda t, s: jm.accuracy_at_coverage(t, s, coverage=0.6))(y_true, y_score)
    assert float(got) == 1.0
    with pytest.raises(ValueError, match=r"coverage: expected a fraction in \(0, 1\], found 0"):
        jm.accuracy_at_coverage(y_true, y_score, coverage=0)
