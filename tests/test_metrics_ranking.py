import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sklearn.metrics as sk
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import jaxdiag.metrics as jm

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _dtype():
    return np.float64 if jnp.result_type(float) == jnp.float64 else np.float32


@st.composite
def binary_problems(draw, weighted=None):
    n = draw(st.sampled_from([1, 2, 7, 24]))  # few shapes: each new shape compiles
    levels = draw(st.sampled_from([3, 10, 1000]))  # few levels -> many ties
    y_true = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    y_score = np.array(draw(st.lists(st.integers(0, levels), min_size=n, max_size=n))) / levels
    if weighted is None:
        weighted = draw(st.booleans())
    weight = None
    if weighted:
        weight = np.array(draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.5]), min_size=n,
                                        max_size=n)))
        assume(weight.sum() > 0)
    return y_true, y_score.astype(_dtype()), weight


def _sklearn(function, *args, **kwargs):
    """scikit-learn's value, without its warnings about undefined cases."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def _close(got, expected, tol):
    np.testing.assert_allclose(np.asarray(got, np.float64), expected, rtol=tol, atol=tol)


@SETTINGS
@given(problem=binary_problems())
def test_average_precision_matches_sklearn(tolerance, problem):
    y_true, y_score, weight = problem
    expected = _sklearn(sk.average_precision_score, y_true, y_score, sample_weight=weight)
    _close(jm.average_precision_score(y_true, y_score, sample_weight=weight), expected, tolerance)


@SETTINGS
@given(problem=binary_problems())
def test_roc_auc_matches_sklearn(tolerance, problem):
    y_true, y_score, weight = problem
    positive = (y_true * (1 if weight is None else weight)).sum()
    negative = ((1 - y_true) * (1 if weight is None else weight)).sum()
    assume(positive > 0 and negative > 0)
    expected = sk.roc_auc_score(y_true, y_score, sample_weight=weight)
    _close(jm.roc_auc_score(y_true, y_score, sample_weight=weight), expected, tolerance)


@settings(SETTINGS, max_examples=12)  # the suite's slowest property test: ~0.8 s per example
@given(problem=binary_problems(), drop=st.booleans())
def test_curves_match_sklearn_point_for_point(tolerance, problem, drop):
    """The points, and the warnings of a class missing (the same class names)."""
    y_true, y_score, weight = problem
    results, warned = [], []
    for library in (sk, jm):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results.append((
                library.precision_recall_curve(y_true, y_score, sample_weight=weight,
                                               drop_intermediate=drop),
                library.roc_curve(y_true, y_score, sample_weight=weight,
                                  drop_intermediate=drop)))
        warned.append(sorted(type(w.message).__name__ for w in caught
                             if "divide" not in str(w.message)))  # NumPy's own 0/0
    assert warned[1] == warned[0]
    (expected_pr, expected_roc), (got_pr, got_roc) = results
    for got, expected in zip((*got_pr, *got_roc), (*expected_pr, *expected_roc), strict=True):
        assert got.shape == expected.shape
        _close(got, expected, tolerance)


@st.composite
def multi_problems(draw):
    n = draw(st.sampled_from([3, 16]))
    classes = draw(st.sampled_from([2, 3]))
    y_true = np.array(draw(st.lists(st.integers(0, 1), min_size=n * classes,
                                    max_size=n * classes))).reshape(n, classes)
    y_score = np.array(draw(st.lists(st.integers(0, 6), min_size=n * classes,
                                     max_size=n * classes))).reshape(n, classes) / 6
    weight = None
    if draw(st.booleans()):
        weight = np.array(draw(st.lists(st.sampled_from([0.0, 1.0, 3.0]), min_size=n,
                                        max_size=n)))
        assume(weight.sum() > 0)
    return y_true, y_score.astype(_dtype()), weight


@SETTINGS
@given(problem=multi_problems(), average=st.sampled_from([None, "micro", "macro", "weighted",
                                                          "samples"]))
def test_multilabel_average_precision_every_average(tolerance, problem, average):
    y_true, y_score, weight = problem
    expected = _sklearn(sk.average_precision_score, y_true, y_score, average=average,
                        sample_weight=weight)
    got = jm.average_precision_score(y_true, y_score, average=average, sample_weight=weight)
    _close(got, expected, tolerance)


@SETTINGS
@given(problem=multi_problems(), average=st.sampled_from([None, "micro", "macro", "weighted"]))
def test_multilabel_roc_auc_every_average(tolerance, problem, average):
    y_true, y_score, weight = problem
    w = 1 if weight is None else weight[:, None]
    assume(((y_true * w).sum(0) > 0).all() and (((1 - y_true) * w).sum(0) > 0).all())
    expected = sk.roc_auc_score(y_true, y_score, average=average, sample_weight=weight)
    got = jm.roc_auc_score(y_true, y_score, average=average, sample_weight=weight)
    _close(got, expected, tolerance)


@SETTINGS
@given(seed=st.integers(0, 2**16), n=st.sampled_from([8, 30]),
       average=st.sampled_from(["macro", "weighted", "micro"]), weighted=st.booleans())
def test_multiclass_one_vs_rest_roc_auc(tolerance, seed, n, average, weighted):
    rng = np.random.default_rng(seed)
    y_true = np.concatenate([[0, 1, 2], rng.integers(0, 3, n - 3)])
    y_prob = rng.dirichlet(np.ones(3), n)
    weight = rng.uniform(0.5, 2, n) if weighted else None
    expected = sk.roc_auc_score(y_true, y_prob, multi_class="ovr", average=average,
                                sample_weight=weight)
    got = jm.roc_auc_score(y_true, y_prob.astype(_dtype()), multi_class="ovr", average=average,
                           sample_weight=weight)
    _close(got, expected, tolerance)
    _close(jm.average_precision_score(y_true, y_prob.astype(_dtype()), sample_weight=weight),
           sk.average_precision_score(y_true, y_prob, sample_weight=weight), tolerance)


def test_all_one_class_edge_cases():
    score = np.array([0.1, 0.4, 0.4, 0.8], np.float32)
    with pytest.warns(UserWarning, match="No positive class found in y_true"):
        assert float(jm.average_precision_score([0, 0, 0, 0], score)) == 0.0
    assert float(jm.average_precision_score([1, 1, 1, 1], score)) == 1.0
    with pytest.warns(jm.UndefinedMetricWarning, match="Only one class is present"):
        assert np.isnan(jm.roc_auc_score([1, 1, 1, 1], score))
    assert np.isnan(jax.jit(jm.roc_auc_score)(np.ones(4, int), score))


def test_vmap_scores_a_population_in_one_call():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, (16, 300))
    y_score = rng.random((16, 300)).astype(np.float32)
    ap = jax.jit(jax.vmap(jm.average_precision_score))(y_true, y_score)
    auc = jax.vmap(jm.roc_auc_score)(y_true, y_score)
    for k in range(16):
        assert abs(float(ap[k]) - sk.average_precision_score(y_true[k], y_score[k])) < 1e-5
        assert abs(float(auc[k]) - sk.roc_auc_score(y_true[k], y_score[k])) < 1e-5


def test_jit_curve_has_one_point_per_example_with_the_same_area():
    y_true = np.array([0, 1, 1, 0, 1, 0])
    y_score = np.array([0.2, 0.8, 0.5, 0.5, 0.9, 0.1], np.float32)
    fpr, tpr, _thresholds = jax.jit(jm.roc_curve)(y_true, y_score)
    assert fpr.shape == (7,)
    assert abs(np.trapezoid(tpr, fpr) - sk.roc_auc_score(y_true, y_score)) < 1e-6
    precision, recall, _ = jax.jit(jm.precision_recall_curve)(y_true, y_score)
    area = -np.sum(np.diff(np.asarray(recall)) * np.asarray(precision)[:-1])
    assert abs(area - sk.average_precision_score(y_true, y_score)) < 1e-6


def test_nan_scores_are_an_error_when_concrete_and_nan_under_jit():
    y_score = np.array([0.1, np.nan, 0.3], np.float32)
    with pytest.raises(ValueError, match="y_score: expected finite values, found nan at index"):
        jm.average_precision_score([0, 1, 1], y_score)
    assert np.isnan(jax.jit(jm.average_precision_score)(np.array([0, 1, 1]), y_score))


def test_bad_shapes_and_labels_name_the_argument():
    with pytest.raises(ValueError, match="y_score: expected 3 rows"):
        jm.roc_auc_score([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="y_true: expected binary labels, found 3 classes"):
        jm.average_precision_score([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="multi_class: multiclass targets need"):
        jm.roc_auc_score([0, 1, 2], np.eye(3))
    with pytest.raises(ValueError, match=r"num_thresholds: expected an int >= 2"):
        jm.roc_auc_score([0, 1], [0.1, 0.2], num_thresholds=1)
    with pytest.raises(ValueError, match=r"y_score: binned curves .* need scores in \[0, 1\]"):
        jm.roc_auc_score([0, 1], [0.1, 2.0], num_thresholds=10)


@pytest.mark.parametrize("num_thresholds", [11, 101, 1001])
def test_binned_area_is_the_exact_area_of_quantized_scores(num_thresholds):
    rng = np.random.default_rng(num_thresholds)
    y_true = rng.integers(0, 2, 2000)
    y_score = np.clip(rng.normal(0.4 + 0.2 * y_true, 0.2), 0, 1).astype(np.float32)
    weight = rng.uniform(0, 2, 2000).astype(np.float32)
    quantized = np.floor(y_score * (num_thresholds - 1)) / (num_thresholds - 1)
    for ours, theirs in ((jm.average_precision_score, sk.average_precision_score),
                         (jm.roc_auc_score, sk.roc_auc_score)):
        got = ours(y_true, y_score, sample_weight=weight, num_thresholds=num_thresholds)
        assert abs(float(got) - theirs(y_true, quantized, sample_weight=weight)) < 1e-5
    # the documented bound: |binned - exact| <= 1/2 sum_k P_k N_k / (P N)
    bins = np.floor(y_score * (num_thresholds - 1)).astype(int)
    pos = np.bincount(bins, weight * y_true, num_thresholds)
    neg = np.bincount(bins, weight * (1 - y_true), num_thresholds)
    bound = 0.5 * (pos * neg).sum() / (pos.sum() * neg.sum())
    exact = sk.roc_auc_score(y_true, y_score, sample_weight=weight)
    binned = float(jm.roc_auc_score(y_true, y_score, sample_weight=weight,
                                    num_thresholds=num_thresholds))
    assert abs(binned - exact) <= bound + 1e-6


@pytest.mark.parametrize(
    ("y_true", "y_score"),
    [([0, 1, 1, 0, 1], [1e300, 2e300, 3e300, 4e300, 5e300]),  # inf in float32
     ([0, 1], [0.1, 0.1 + 1e-9]),  # distinct in float64, tied in float32
     ([1, 0, 1, 0], [0.1 + 1e-9, 0.1, 2**40 + 1, 2**40]),
     ([0, 1, 0, 1], np.array([2**53, 2**53 + 2, 1, 2], np.int64)),
     ([0, 1, 1, 0, 1], [0.1, 0.3, 0.7, 0.2, 0.3])],  # order kept, values rounded in float32
)
def test_float64_scores_keep_their_order_in_float32_mode(y_true, y_score):
    """Issue 24: scores that the cast to float32 ties or sends to inf are ranked as they are;
    issue 26: thresholds are the input's own values, so each score reaches its own."""
    np.testing.assert_allclose(jm.roc_auc_score(y_true, y_score),
                               sk.roc_auc_score(y_true, y_score), atol=1e-6)
    np.testing.assert_allclose(jm.average_precision_score(y_true, y_score),
                               sk.average_precision_score(y_true, y_score), atol=1e-6)
    ours, theirs = jm.roc_curve(y_true, y_score), sk.roc_curve(y_true, y_score)
    for a, b in zip(ours[:2], theirs[:2], strict=True):
        np.testing.assert_allclose(np.asarray(a, np.float64), b, rtol=1e-6)
    np.testing.assert_array_equal(ours[2], theirs[2])
    thresholds = jm.precision_recall_curve(y_true, y_score)[2]
    np.testing.assert_array_equal(thresholds, sk.precision_recall_curve(y_true, y_score)[2])


def test_scores_that_are_not_numbers_or_do_not_fit_are_refused():
    with pytest.raises(ValueError, match="y_score: expected real numbers, found dtype object"):
        jm.roc_auc_score([0, 1], np.array([0.5, "high"], dtype=object))
    with pytest.raises(ValueError, match=r"y_score: expected finite values, found nan"):
        jm.roc_auc_score([0, 1], np.array([0.5, None], dtype=object))  # None reads as NaN
    with pytest.raises(TypeError, match="y_true: labels represented as bytes"):
        jm.roc_curve([b"a", b"b"], [0.0, 1.0])
    with pytest.raises(ValueError, match="y_true: expected an array, found None"):
        jm.roc_auc_score(None, [0.5, 0.2])
    with pytest.raises(ValueError, match=r"y_proba: expected values that fit in float32 .* "
                                         r"found 1e\+300 at index \[0, 0\]"):
        jm.log_loss([0, 1], [[1e300, 0.0], [0.0, 1.0]])


_PROBA = np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.2, 0.7], [0.3, 0.3, 0.4]])
_INDICATOR = np.array([[0, 1], [1, 1], [1, 0], [0, 0]])


@pytest.mark.parametrize(("name", "args", "kwargs", "argument"), [
    ("average_precision_score", ([0, 1], [0.2, 0.8]), {"pos_label": 2}, "pos_label"),
    ("average_precision_score", (_INDICATOR, _INDICATOR * 0.5), {"pos_label": 0}, "pos_label"),
    ("average_precision_score", ([[0, 2], [1, 1], [2, 0], [0, 1]], _INDICATOR * 0.5), {},
     "y_true"),
    ("roc_auc_score", ([0, 1, 2, 2], _PROBA), {"labels": [0, 2, 0], "multi_class": "ovr"},
     "labels"),
    ("roc_auc_score", ([0, 1, 2, 2], _PROBA), {"labels": [0, 2, 1], "multi_class": "ovr"},
     "labels"),
    ("roc_auc_score", ([0, 1, 3, 2], _PROBA), {"labels": [0, 1, 2], "multi_class": "ovr"},
     "y_true"),
    ("top_k_accuracy_score", ([0, 1, 2, 2], _PROBA), {"labels": [0, 2, 1]}, "labels"),
    ("top_k_accuracy_score", ([0, 1, 5, 2], _PROBA), {"labels": [0, 1, 2]}, "y_true"),
])
def test_what_sklearn_refuses_is_refused_naming_the_argument(name, args, kwargs, argument):
    """Issue 26: these returned a number (0.0, NaN or a score) where sklearn raises."""
    with pytest.raises(ValueError):
        getattr(sk, name)(*args, **kwargs)
    with pytest.raises(ValueError, match=rf"^{argument}: expected"):
        getattr(jm, name)(*args, **kwargs)


@settings(SETTINGS, max_examples=15)
@given(seed=st.integers(0, 2**16), n=st.sampled_from([12, 60]), classes=st.sampled_from([3, 4]),
       average=st.sampled_from(["macro", "weighted"]))
def test_one_vs_one_auc_equals_sklearn(tolerance, seed, n, classes, average):
    """Hand & Till's pairwise AUC, with ties between coarse scores."""
    rng = np.random.default_rng(seed)
    y_true = np.concatenate([np.arange(classes), rng.integers(0, classes, n - classes)])
    y_score = rng.integers(1, 5, (n, classes)).astype(np.float64)
    y_score /= y_score.sum(axis=1, keepdims=True)
    expected = sk.roc_auc_score(y_true, y_score, multi_class="ovo", average=average)
    got = jm.roc_auc_score(y_true, y_score.astype(_dtype()), multi_class="ovo", average=average)
    _close(got, expected, tolerance)


@settings(SETTINGS, max_examples=20)
@given(seed=st.integers(0, 2**16), n=st.sampled_from([10, 80]), weighted=st.booleans(),
       max_fpr=st.sampled_from([0.05, 0.3, 0.5, 0.999]), multilabel=st.booleans())
def test_partial_auc_equals_sklearn(tolerance, seed, n, weighted, max_fpr, multilabel):
    """McClish-standardized partial AUC (max_fpr), binary and per multilabel column."""
    rng = np.random.default_rng(seed)
    shape = (n, 3) if multilabel else (n,)
    y_true = rng.integers(0, 2, shape)
    y_true[:2] = [[0] * 3, [1] * 3] if multilabel else [0, 1]  # both classes everywhere
    y_score = np.round(rng.random(shape) + 0.5 * y_true, 1)  # ties
    weight = rng.uniform(0.1, 2, n) if weighted else None
    expected = sk.roc_auc_score(y_true, y_score, sample_weight=weight, max_fpr=max_fpr)
    got = jm.roc_auc_score(y_true, y_score.astype(_dtype()), sample_weight=weight,
                           max_fpr=max_fpr)
    _close(got, expected, tolerance)
    with pytest.raises(ValueError, match=r"max_fpr: expected a value in \(0, 1\]"):
        jm.roc_auc_score(y_true, y_score, max_fpr=0)


def test_one_vs_one_and_partial_auc_under_jit_equal_their_eager_values():
    rng = np.random.default_rng(5)
    y_true = np.concatenate([np.arange(3), rng.integers(0, 3, 37)])
    y_score = rng.dirichlet(np.ones(3), 40).astype(np.float32)
    ovo = jax.jit(lambda t, s: jm.roc_auc_score(t, s, multi_class="ovo", labels=range(3)))
    np.testing.assert_allclose(ovo(y_true, y_score),
                               jm.roc_auc_score(y_true, y_score, multi_class="ovo"), rtol=1e-6)
    binary = (y_true == 0).astype(np.int32)
    partial = jax.jit(lambda t, s: jm.roc_auc_score(t, s, max_fpr=0.2))
    np.testing.assert_allclose(partial(binary, y_score[:, 0]),
                               sk.roc_auc_score(binary, y_score[:, 0], max_fpr=0.2), rtol=1e-5)
