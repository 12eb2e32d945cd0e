import jax
import numpy as np
import pytest
import sklearn.metrics as sk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jaxdiag.metrics as jm

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(seed=st.integers(0, 2**16), n=st.sampled_from([4, 30]), k=st.integers(1, 4),
       weighted=st.booleans(), normalize=st.booleans())
def test_top_k_accuracy_matches_sklearn_with_ties(tolerance, seed, n, k, weighted, normalize):
    rng = np.random.default_rng(seed)
    y_true = np.concatenate([np.arange(4), rng.integers(0, 4, n - 4)])
    y_score = rng.integers(0, 3, (n, 4)) / 3  # coarse scores: ties between classes
    weight = rng.uniform(0.1, 2, n) if weighted else None
    expected = sk.top_k_accuracy_score(y_true, y_score, k=k, normalize=normalize,
                                       sample_weight=weight, labels=range(4))
    got = jm.top_k_accuracy_score(y_true, y_score, k=k, normalize=normalize, sample_weight=weight)
    np.testing.assert_allclose(float(got), expected, rtol=tolerance, atol=tolerance)


@SETTINGS
@given(seed=st.integers(0, 2**16), n=st.sampled_from([4, 30]), weighted=st.booleans(),
       binary=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]))
def test_log_loss_matches_sklearn(tolerance, seed, n, weighted, binary, dtype):
    """Hard 0s and 1s are clipped at the epsilon of the input's own dtype, as sklearn does:
    float64 input at 2.2e-16 in float32 mode too."""
    rng = np.random.default_rng(seed)
    classes = 2 if binary else 4
    y_true = np.concatenate([np.arange(classes), rng.integers(0, classes, n - classes)])
    y_proba = rng.dirichlet(np.full(classes, 0.3), n)  # some probabilities near 0
    hard = rng.random(n) < 0.3
    y_proba[hard] = np.eye(classes)[rng.integers(0, classes, hard.sum())]  # some exact 0 and 1
    y_proba = y_proba.astype(dtype)
    if binary:
        y_proba = y_proba[:, 1]
    weight = rng.uniform(0.1, 2, n) if weighted else None
    expected = sk.log_loss(y_true, y_proba, sample_weight=weight)
    np.testing.assert_allclose(float(jm.log_loss(y_true, y_proba, sample_weight=weight)),
                               expected, rtol=tolerance)


def test_log_loss_of_certain_mistakes_equals_sklearn_in_float32_mode():
    """The cases of issue 26: float64 certainties that sklearn clips at float64's epsilon."""
    assert float(jm.log_loss([0, 1], [[1.0, 0.0], [1.0, 0.0]])) == pytest.approx(
        sk.log_loss([0, 1], [[1.0, 0.0], [1.0, 0.0]]), rel=1e-6)  # 18.02, not 7.97
    y_proba = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    args = dict(sample_weight=[1.0, 2.0, 3.0], labels=[0, 1, 2])
    assert float(jm.log_loss([0, 1, 2], y_proba, **args)) == pytest.approx(
        sk.log_loss([0, 1, 2], y_proba, **args), rel=1e-6)  # class 2 is never predicted


def test_binary_top_1_thresholds_like_sklearn():
    y_true = np.array([0, 1, 1, 0])
    y_score = np.array([0.2, 0.7, 0.4, 0.6])
    assert float(jm.top_k_accuracy_score(y_true, y_score, k=1)) == sk.top_k_accuracy_score(
        y_true, y_score, k=1)


def test_jit_uses_column_indices_and_validation_names_arguments():
    y_true = np.array([2, 0, 1])
    y_proba = np.eye(3)[[2, 1, 1]] * 0.8 + 0.2 / 3
    got = jax.jit(jm.log_loss)(y_true, y_proba)
    assert abs(float(got) - sk.log_loss(y_true, y_proba)) < 1e-5
    with pytest.raises(ValueError, match=r"y_proba: expected probabilities in \[0, 1\]"):
        jm.log_loss([0, 1], [0.5, 1.5])
    with pytest.raises(ValueError, match="labels: y_true holds 2 classes but the scores have 3"):
        jm.top_k_accuracy_score([0, 1], np.ones((2, 3)))
