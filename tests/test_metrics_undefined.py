"""Undefined cases warn as scikit-learn warns (the same class name and the same value)."""

import warnings

import jax
import numpy as np
import pytest
import sklearn.metrics as sk

import jaxdiag.metrics as jm

_PROBA = np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.2, 0.7]])
_SCORE = [0.1, 0.4, 0.8]
_INDICATOR = np.array([[0, 1], [0, 0], [1, 0]])


@pytest.mark.parametrize(("name", "args", "kwargs"), [
    ("precision_score", ([0, 0, 1], [0, 0, 0]), {}),  # nothing predicted positive
    ("recall_score", ([0, 0, 0], [0, 1, 0]), {}),  # no positive
    ("f1_score", ([0, 0, 0], [0, 0, 0]), {}),
    ("f1_score", ([0, 0, 0], [0, 0, 0]), {"zero_division": 1.0}),  # no warning then
    ("precision_score", ([0, 1, 2], [0, 0, 0]), {"average": "macro"}),
    ("recall_score", ([0, 1, 1], [0, 1, 2]), {"average": None}),
    ("precision_recall_fscore_support", ([0, 1, 2], [0, 0, 0]), {}),
    ("precision_recall_fscore_support", ([0, 1, 2], [0, 0, 0]), {"warn_for": ("recall",)}),
    ("f1_score", (_INDICATOR, _INDICATOR[::-1]), {"average": "samples"}),
    ("fbeta_score", ([0, 1, 2], [0, 0, 0]), {"beta": 2.0, "average": "weighted"}),
    ("precision_score", ([0, 1], [1, 1]), {}),  # defined: no warning
    ("roc_auc_score", ([1, 1, 1], _SCORE), {}),
    ("roc_curve", ([1, 1, 1], _SCORE), {}),
    ("roc_curve", ([0, 0, 0], _SCORE), {}),
    ("precision_recall_curve", ([0, 0, 0], _SCORE), {}),
    ("average_precision_score", ([0, 0, 0], _SCORE), {}),
    ("top_k_accuracy_score", ([0, 1, 2], _PROBA), {"k": 3}),
])
def test_undefined_cases_warn_and_return_what_sklearn_does(name, args, kwargs):
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        expected = getattr(sk, name)(*args, **kwargs)
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        got = getattr(jm, name)(*args, **kwargs)
    assert sorted(type(w.message).__name__ for w in ours) == sorted(
        type(w.message).__name__ for w in theirs)
    assert all(w.filename == __file__ for w in ours)  # pointing at the caller's line
    expected, got = (x if isinstance(x, tuple) else (x,) for x in (expected, got))
    for a, b in zip(got, expected, strict=True):
        if b is None:
            assert a is None
        else:
            np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64),
                                       rtol=1e-6)


def test_under_jit_the_same_value_comes_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = jax.jit(jm.precision_score)(np.array([0, 0, 1]), np.array([0, 0, 0]))
    assert float(value) == 0.0
    assert issubclass(jm.UndefinedMetricWarning, UserWarning)
