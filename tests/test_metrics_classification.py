import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sklearn.metrics as sk
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import jaxdiag.metrics as jm

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
ZERO_DIVISION = {"warn": "warn", 0: 0, 1: 1, "nan": np.nan}


@st.composite
def label_problems(draw):
    kind = draw(st.sampled_from(["binary", "multiclass", "multilabel"]))
    n = draw(st.sampled_from([1, 6, 25]))
    if kind == "multilabel":
        shape, high = (n, 3), 1
    else:
        shape, high = (n,), 1 if kind == "binary" else 3
    size = int(np.prod(shape))
    y_true = np.array(draw(st.lists(st.integers(0, high), min_size=size, max_size=size)))
    y_pred = np.array(draw(st.lists(st.integers(0, high), min_size=size, max_size=size)))
    weight = None
    if draw(st.booleans()):
        weight = np.array(draw(st.lists(st.sampled_from([0.0, 0.5, 2.0]), min_size=n,
                                        max_size=n)))
        weight[0] = 1.0  # all-zero weights are an error, tested on their own
    return kind, y_true.reshape(shape), y_pred.reshape(shape), weight


@SETTINGS
@given(problem=label_problems(), average=st.sampled_from([None, "binary", "micro", "macro",
                                                          "weighted", "samples"]),
       zero_division=st.sampled_from(list(ZERO_DIVISION)), beta=st.sampled_from([0.5, 1.0, 2.0]))
@example(problem=("binary", np.array([0]), np.array([2]), None), average="binary",  # no label 1
         zero_division="warn", beta=1.0)
def test_precision_recall_fscore_match_sklearn(tolerance, problem, average, zero_division, beta):
    _kind, y_true, y_pred, weight = problem
    kwargs = dict(beta=beta, average=average, sample_weight=weight)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = sk.precision_recall_fscore_support(
                y_true, y_pred, zero_division=ZERO_DIVISION[zero_division], **kwargs)
        except (ValueError, ZeroDivisionError) as error:
            with pytest.raises(ValueError):
                jm.precision_recall_fscore_support(y_true, y_pred, zero_division=zero_division,
                                                   **kwargs)
            assert any(cause in str(error) for cause in ("average", "Samplewise", "pos_label"))
            return
    got = jm.precision_recall_fscore_support(y_true, y_pred, zero_division=zero_division,
                                             **kwargs)
    for g, e in zip(got[:3], expected[:3], strict=True):
        np.testing.assert_allclose(np.asarray(g, np.float64), e, rtol=tolerance, atol=tolerance)
    if average is None:
        np.testing.assert_allclose(got[3], expected[3], rtol=tolerance)


@SETTINGS
@given(problem=label_problems(), normalize=st.booleans())
def test_accuracy_matches_sklearn(tolerance, problem, normalize):
    _, y_true, y_pred, weight = problem
    expected = sk.accuracy_score(y_true, y_pred, normalize=normalize, sample_weight=weight)
    got = jm.accuracy_score(y_true, y_pred, normalize=normalize, sample_weight=weight)
    np.testing.assert_allclose(float(got), expected, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
def test_confusion_matrix_matches_sklearn_with_labels_and_weights(normalize):
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 5, 200), rng.integers(0, 5, 200)
    weight = rng.uniform(0, 2, 200)
    for labels in (None, [4, 0, 2]):
        expected = sk.confusion_matrix(y_true, y_pred, labels=labels, sample_weight=weight,
                                       normalize=normalize)
        got = jm.confusion_matrix(y_true, y_pred, labels=labels, sample_weight=weight,
                                  normalize=normalize)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("weight", [None, [1, 2, 0, 3, 1], [True, False, True, True, True],
                                    [0.5, 2.0, 1.0, 1.0, 0.25]])
def test_confusion_matrix_counts_are_integers_as_in_sklearn(weight):
    """Integer counts unweighted and with integer or bool weights; the weights' float dtype
    otherwise (JAX's default widths: int32 and float32 unless x64 is on)."""
    y_true, y_pred = [0, 1, 2, 2, 1], [0, 2, 2, 1, 1]
    expected = sk.confusion_matrix(y_true, y_pred, sample_weight=weight)
    got = jm.confusion_matrix(y_true, y_pred, sample_weight=weight)
    assert got.dtype.kind == expected.dtype.kind and got.dtype == (
        jnp.result_type(int) if expected.dtype.kind == "i" else jnp.result_type(float))
    np.testing.assert_allclose(got, expected)
    assert jm.confusion_matrix(y_true, y_pred, normalize="true").dtype == jnp.result_type(float)
    with pytest.raises(ValueError, match=r"labels: expected at least one label that is in "
                                         r"y_true, found none of \[3, 4\]"):
        jm.confusion_matrix(y_true, y_pred, labels=[3, 4])
    with pytest.raises(ValueError, match="At least one label specified must be in y_true"):
        sk.confusion_matrix(y_true, y_pred, labels=[3, 4])  # as sklearn refuses it


def test_string_labels_work_when_concrete():
    y_true = ["cat", "dog", "dog", "bird"]
    y_pred = ["cat", "cat", "dog", "bird"]
    np.testing.assert_allclose(jm.f1_score(y_true, y_pred, average="macro"),
                               sk.f1_score(y_true, y_pred, average="macro"), rtol=1e-6)
    np.testing.assert_array_equal(jm.confusion_matrix(y_true, y_pred),
                                  sk.confusion_matrix(y_true, y_pred))
    assert float(jm.accuracy_score(y_true, y_pred)) == 0.75


def test_jit_and_vmap_with_static_labels():
    rng = np.random.default_rng(1)
    y_true, y_pred = rng.integers(0, 4, (8, 100)), rng.integers(0, 4, (8, 100))
    f1 = jax.jit(jax.vmap(lambda t, p: jm.f1_score(t, p, average="macro", labels=range(4))))
    got = f1(y_true, y_pred)
    for k in range(8):
        assert abs(float(got[k]) - sk.f1_score(y_true[k], y_pred[k], average="macro")) < 1e-6
    binary = jax.vmap(jm.precision_score)(y_true % 2, y_pred % 2)
    assert abs(float(binary[3]) - sk.precision_score(y_true[3] % 2, y_pred[3] % 2)) < 1e-6


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="labels: under jit or vmap the classes cannot be read"):
        jax.jit(lambda t, p: jm.f1_score(t, p, average="macro"))(jnp.zeros(3), jnp.zeros(3))
    with pytest.raises(ValueError, match="average: 'binary' needs at most two classes, found 3"):
        jm.f1_score([0, 1, 2], [0, 1, 1])
    with pytest.raises(ValueError, match=r"y_pred: expected the shape of y_true \(3,\)"):
        jm.recall_score([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="zero_division: expected one of"):
        jm.precision_score([0, 1], [0, 1], zero_division=2)
    with pytest.raises(ValueError, match="sample_weight: expected non-negative weights"):
        jm.accuracy_score([0, 1], [0, 1], sample_weight=[1.0, -1.0])
    with pytest.raises(ValueError, match="sample_weight: expected at least one positive weight"):
        jm.f1_score([0, 1], [0, 1], sample_weight=[0.0, 0.0])
    with pytest.raises(ValueError, match="pos_label: expected one of"):
        jm.f1_score([0, 1], [1, 1], pos_label=2)


def _macro_f1(module):
    return lambda t, p: module.f1_score(t, p, average="macro")


@pytest.mark.parametrize(
    ("name", "y_true", "y_pred"),
    [("accuracy_score", np.array([2**32, 1]), np.array([0, 1])),
     ("macro_f1", [0, 2**40, 2**40, 5], [0, 2**40, 2**40, 5]),
     ("macro_f1", [0, 2**40, 2**33, 5], [0, 2**33, 2**40, 5]),
     ("confusion_matrix", np.array([2**32, 0, 0]), np.array([0, 0, 2**32]))],
)
def test_64_bit_labels_are_not_wrapped_by_the_int32_device(name, y_true, y_pred):
    """Issue 24: NumPy labels 2**32 and 0 used to compare equal after the cast to int32."""
    ours, theirs = ((_macro_f1(jm), _macro_f1(sk)) if name == "macro_f1"
                    else (getattr(jm, name), getattr(sk, name)))
    np.testing.assert_allclose(np.asarray(ours(y_true, y_pred)), theirs(y_true, y_pred),
                               atol=1e-6)


def test_mixed_string_and_number_labels_are_taken_or_refused_as_sklearn_does():
    """A list mixing them becomes strings (NumPy's conversion, which sklearn scores); an
    object array keeps both kinds, which do not sort: a TypeError, as in sklearn."""
    mixed = [1, "a", "a"], [1, "a", 1]
    np.testing.assert_allclose(jm.f1_score(*mixed, average="macro"),
                               sk.f1_score(*mixed, average="macro"), rtol=1e-6)
    objects = np.array(["a", "b"], object), np.array(["a", 2], object)
    with pytest.raises(TypeError):
        sk.f1_score(*objects, average="macro")
    with pytest.raises(TypeError, match="y_pred: expected labels of one kind"):
        jm.f1_score(*objects, average="macro")
