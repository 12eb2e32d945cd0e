import numpy as np
import pytest
from scipy import stats

from jaxdiag.data import fit_normalizer, load_digits, normalize
from jaxdiag.diagnose import (
    LabelErrors,
    cross_validated_probabilities,
    find_label_errors,
    plant_label_flips,
    triage_label_errors,
)


def _suspects(indices, self_confidence) -> LabelErrors:
    """LabelErrors with the given flags, least self-confident first (the other fields unused)."""
    order = np.argsort(self_confidence, kind="stable")
    indices = np.asarray(indices)[order]
    zeros = np.zeros(len(indices), int)
    return LabelErrors(indices, zeros, zeros, np.asarray(self_confidence, float)[order],
                       np.zeros(2), np.zeros((2, 2), int))


def _wilson(k: int, n: int):
    return stats.binomtest(k, n).proportion_ci(0.95, method="wilson")


def test_planted_flips_move_each_chosen_label_to_a_uniform_other_class():
    y = np.zeros(40_000, int)
    flipped, indices = plant_label_flips(y, 5, 20_000, seed=3)
    assert len(np.unique(indices)) == 20_000 and np.all(np.diff(indices) > 0)
    assert np.all(flipped[indices] != 0)
    assert np.all(np.delete(flipped, indices) == 0) and np.all(y == 0)  # y left as it was
    _, p = stats.chisquare(np.bincount(flipped[indices], minlength=5)[1:])
    assert p > 1e-3, p
    again, same = plant_label_flips(y, 5, 20_000, seed=3)
    assert np.array_equal(again, flipped) and np.array_equal(same, indices)
    with pytest.raises(ValueError, match=r"count: expected an integer in \[1, 40000\]"):
        plant_label_flips(y, 5, 0)
    with pytest.raises(ValueError, match="num_classes: expected an integer >= 2"):
        plant_label_flips(y, 1, 3)


def test_triage_by_hand():
    flags = _suspects(np.arange(6), [0.01, 0.02, 0.05, 0.2, 0.3, 0.4])
    planted = np.arange(100, 110)
    found = [0.005, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.1]  # 8 of the 10 planted
    copy = _suspects([*planted[:8], 7, 8], [*found, 0.001, 0.5])  # and two flags not planted
    triage = triage_label_errors(flags, copy, planted, 50, error_rate=0.1)
    assert (triage.planted, triage.found, triage.flags) == (10, 8, 6)
    assert triage.recall == 0.8
    ci = _wilson(8, 10)
    np.testing.assert_allclose(triage.recall_interval, (ci.low, ci.high), rtol=1e-12)
    # numpy's linear quantiles of the found flips: 0.8 -> 0.046, which 2 flags reach
    assert triage.review_top == 2
    # cuts 0.01375, 0.025, 0.0425, 0.1 hold 1, 2, 2, 3 of the 6 flags and 2, 4, 6, 8 of the 8
    # found flips: each share at its Wilson end that loosens the bound
    bound = min(1.0, *(_wilson(k, 6).high / _wilson(j, 8).low
                       for k, j in [(1, 2), (2, 4), (2, 6), (3, 8)]))
    assert triage.precision_at_most == pytest.approx(bound, rel=1e-12)
    assert triage.errors_at_most == pytest.approx(bound * 6 * 10 / 8)
    # with the rate known: 0.8 x 0.1 x 50 = 4 findable errors among 6 flags, 3.2 in the top 2
    assert triage.precision == pytest.approx(4 / 6) and triage.review_precision == 1.0
    assert "top 2 of the 6 flags" in triage.message and "67%" in triage.message
    as_dict = triage.as_dict()
    assert as_dict["recall_interval"] == list(triage.recall_interval)
    assert as_dict["message"] == triage.message
    with pytest.raises(ValueError, match="error_rate: expected a value in"):
        triage_label_errors(flags, copy, planted, 50, error_rate=1.5)
    with pytest.raises(ValueError, match="planted: expected at least one"):
        triage_label_errors(flags, copy, planted[:0], 50)


def test_no_planted_flip_found_bounds_nothing():
    flags = _suspects([0, 1], [0.1, 0.2])
    triage = triage_label_errors(flags, _suspects([5], [0.1]), np.array([3, 4]), 10)
    assert triage.recall == 0 and triage.precision_at_most == 1.0
    assert np.isinf(triage.errors_at_most) and triage.as_dict()["errors_at_most"] is None
    assert triage.review_top == 2


def _simulated(seed: int, n=20_000, errors=400, alarms=1200, planted=1000, recall=0.7,
               alarm_beta=(2.0, 10.0)):
    """Flags of a detector with known truth: it finds ``recall`` of the label errors (real or
    planted, self-confidence ~ Beta(1, 30)) and raises ``alarms`` false alarms (self-confidence
    ~ Beta(*alarm_beta)). Returns (triage, true precision of the flags)."""
    rng = np.random.default_rng(seed)
    real = rng.random(errors) < recall
    found = rng.random(planted) < recall
    scores = rng.beta(1, 30, real.sum())
    alarm_scores = rng.beta(*alarm_beta, alarms)
    flags = _suspects(np.arange(real.sum() + alarms), np.concatenate([scores, alarm_scores]))
    planted_ids = np.arange(n, n + planted)
    copy = _suspects(np.concatenate([planted_ids[found], np.arange(real.sum() + alarms)]),
                     np.concatenate([rng.beta(1, 30, found.sum()), scores, alarm_scores]))
    return (lambda rate=None: triage_label_errors(flags, copy, planted_ids, n, error_rate=rate),
            real.sum() / (real.sum() + alarms))


def test_the_bound_holds_and_the_known_rate_estimates_the_precision():
    """Over 40 simulated detectors: the bound is never below the true precision (none of 200
    was, offline), and with the true label error rate the estimate is within 0.05 of it."""
    for seed in range(40):
        triage, truth = _simulated(seed)
        assert triage().precision_at_most >= truth, seed
        assert abs(triage(400 / 20_000).precision - truth) < 0.05, seed


def test_the_bound_is_tight_when_false_alarms_are_less_confident_than_label_errors():
    triage, truth = _simulated(0, alarm_beta=(30.0, 10.0))  # alarms near 0.75, errors near 0.03
    assert truth <= triage().precision_at_most <= truth + 0.05
    assert triage().review_top <= 0.85 * triage().flags * truth + 20


@pytest.fixture(scope="module")
def digits_triage():
    """The digits with 5% of the labels flipped (the 'real' errors), folds on them and on a
    copy with 5% more planted."""
    digits = load_digits()
    x = normalize(digits.x, fit_normalizer(digits.x))
    y, real = plant_label_flips(digits.y, 10, round(0.05 * len(x)), seed=11)
    suspects = find_label_errors(y, cross_validated_probabilities(x, y, 10, steps=500))
    copy, planted = plant_label_flips(y, 10, round(0.05 * len(x)), seed=12)
    copy_suspects = find_label_errors(copy, cross_validated_probabilities(x, copy, 10, steps=500))
    return triage_label_errors(suspects, copy_suspects, planted, len(y)), suspects, real


def test_on_the_digits_the_triage_reads_the_real_flips(digits_triage):
    triage, suspects, real = digits_triage
    hits = np.isin(suspects.indices, real)
    # the planted flips' recall is the real ones': two binomial shares within 3 sd of each other
    real_recall = hits.sum() / len(real)
    sd = np.sqrt(triage.recall * (1 - triage.recall) * (1 / triage.planted + 1 / len(real)))
    assert abs(real_recall - triage.recall) <= 3 * sd, (real_recall, triage.recall)
    assert hits.mean() <= triage.precision_at_most <= hits.mean() + 0.25
    top = hits[:triage.review_top]
    assert top.sum() >= 0.7 * hits.sum() and top.mean() >= hits.mean()  # fewer, as many found
