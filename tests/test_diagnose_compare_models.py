import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import average_precision_score, roc_auc_score

from jaxdiag.diagnose import compare_models, mcnemar


@pytest.mark.parametrize("seed", range(6))
def test_mcnemar_p_values_equal_scipys(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 400))
    correct_a, correct_b = rng.random(n) < rng.random(), rng.random(n) < rng.random()
    result = mcnemar(correct_a, correct_b)
    b, c = int(np.sum(correct_a & ~correct_b)), int(np.sum(~correct_a & correct_b))
    assert (result.only_a_right, result.only_b_right) == (b, c)
    assert result.p_value == pytest.approx(stats.binomtest(b, b + c, 0.5).pvalue, rel=1e-9)
    assert result.p_value_chi2 == pytest.approx(stats.chi2.sf((abs(b - c) - 1) ** 2 / (b + c), 1),
                                                rel=1e-9)


def _numpy_paired_bootstrap(y, a, b, score, resamples, seed):
    rng = np.random.default_rng(seed)
    drawn = rng.integers(0, len(y), (resamples, len(y)))
    return np.array([score(y[i], b[i]) - score(y[i], a[i]) for i in drawn])


@pytest.mark.parametrize(("metric", "score"), [
    ("roc_auc", roc_auc_score),
    pytest.param("average_precision", average_precision_score, marks=pytest.mark.slow)])
def test_paired_bootstrap_of_a_ranking_metric_matches_numpy_and_sklearn(metric, score):
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.4).astype(int)
    a, b = y * 0.6 + rng.random(400), y * 0.9 + rng.random(400)
    result = compare_models(y, a, b, metric=metric, resamples=1000)
    assert result.a == pytest.approx(score(y, a), abs=1e-6)
    assert result.b == pytest.approx(score(y, b), abs=1e-6)
    reference = _numpy_paired_bootstrap(y, a, b, score, 1000, 1)
    # each end's Monte-Carlo error is about 0.085 sd at 1,000 resamples: 0.12 sd between two;
    # an unpaired interval would be twice as wide
    np.testing.assert_allclose(result.interval, np.quantile(reference, [0.025, 0.975]),
                               atol=0.4 * reference.std())
    assert result.interval[0] > 0 and result.p_value < 0.01


def test_multiclass_scores_average_each_class_against_the_rest():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 300)
    a, b = rng.random((300, 3)), rng.random((300, 3)) + np.eye(3)[y] * 0.3
    a, b = a / a.sum(axis=1, keepdims=True), b / b.sum(axis=1, keepdims=True)
    result = compare_models(y, a, b, metric="roc_auc", resamples=100)
    assert result.a == pytest.approx(roc_auc_score(y, a, multi_class="ovr"), abs=1e-6)
    assert result.b == pytest.approx(roc_auc_score(y, b, multi_class="ovr"), abs=1e-6)


def test_error_comparison_of_a_model_with_itself_finds_nothing():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, 500)
    probabilities = rng.random((500, 4))
    same = compare_models(y, probabilities, probabilities.argmax(axis=1), resamples=200)
    assert same.difference == 0 and same.interval == (0.0, 0.0) and same.p_value == 1.0
    assert same.mcnemar.p_value == 1.0
    better = np.where(rng.random(500) < 0.5, y, probabilities.argmax(axis=1))
    result = compare_models(y, probabilities, better, resamples=200)
    assert result.difference == pytest.approx(np.mean(better != y) - np.mean(
        probabilities.argmax(axis=1) != y))
    assert result.interval[1] < 0 and result.p_value < 0.01 and result.mcnemar.p_value < 1e-6


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"metric": "f1"}, "metric"), ({"pred_b": np.zeros(3)}, "pred_b"),
    ({"pred_a": np.full(4, np.nan), "metric": "roc_auc"}, "pred_a"),
    ({"y_true": np.array([0, 1, 2, 1]), "metric": "roc_auc"}, "y_true")])
def test_bad_arguments_name_themselves(kwargs, name):
    args = {"y_true": np.array([0, 1, 0, 1]), "pred_a": np.array([0.1, 0.9, 0.2, 0.3]),
            "pred_b": np.array([0.2, 0.8, 0.1, 0.7]), **kwargs}
    with pytest.raises(ValueError, match=f"^{name}: expected"):
        compare_models(**args)
