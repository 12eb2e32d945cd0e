"""The FSDL decision tree: each branch, bugs before gaps."""

import numpy as np
import pytest

from jaxdiag.diagnose import (
    ACTIONS,
    PATHOLOGY_CAUSES,
    CurveFinding,
    LabelTriage,
    LearningCurve,
    NextStep,
    OverfitResult,
    PowerLaw,
    bias_variance,
    chance_level_check,
    initial_loss_check,
    input_scale_check,
    next_steps,
    overfitting_from_curves,
)
from jaxdiag.diagnose.remedy_effect import RemedyEffect

BIAS = bias_variance(0.01, 0.08, 0.10)  # Ng: avoidable bias dominates
VARIANCE = bias_variance(0.075, 0.08, 0.10)
MISMATCH = bias_variance(0.0, 0.01, 0.10, train_dev_error=0.015)
NONE = bias_variance(0.0, 0.0, 0.0)


def failed_overfit(kind: str) -> OverfitResult:
    finding = CurveFinding(kind, 10, "evidence", PATHOLOGY_CAUSES[kind])
    return OverfitResult(False, 2.3, 2.3, None, np.full(20, 2.3), [finding])


def curve(helps: bool) -> LearningCurve:
    sizes = np.array([100, 200, 400])
    return LearningCurve(sizes, np.zeros(3), np.array([0.3, 0.2, 0.15]), np.zeros(3),
                         PowerLaw(1.0, 0.5, 0.0), 0.1, helps, "verdict")


def test_a_failed_gradient_check_comes_first_then_only_the_top_gap_step():
    steps = next_steps(BIAS, gradcheck_ok=False)
    assert [s.stage for s in steps] == ["debug", "improve"]
    assert "gradient" in steps[0].action
    assert steps[1].action == ACTIONS["avoidable_bias"][0]


def test_failed_sanity_checks_are_debug_steps():
    checks = [initial_loss_check(9.0, 10), input_scale_check(np.full((4, 2), 100.0))]
    steps = next_steps(BIAS, sanity=checks)
    assert [s.stage for s in steps] == ["debug", "debug", "improve"]
    assert steps[0].action == checks[0].causes[0] and steps[1].action == checks[1].causes[0]
    assert next_steps(BIAS, sanity=[initial_loss_check(2.3, 10)])[0].stage == "improve"


@pytest.mark.parametrize("kind", ["goes_up", "explodes", "oscillates", "plateaus"])
def test_each_overfit_failure_names_its_first_cause(kind):
    step = next_steps(NONE, overfit=failed_overfit(kind))[0]
    assert step.stage == "debug" and PATHOLOGY_CAUSES[kind][0] in step.action
    assert kind.replace("_", " ") in step.why


def test_training_curve_pathologies_are_debug_steps():
    finding = CurveFinding("explodes", 500, "NaN", PATHOLOGY_CAUSES["explodes"])
    assert next_steps(NONE, curve=[finding])[0].action == "learning rate too high"


def test_no_bug_bias_variance_and_mismatch_branches():
    bias = next_steps(BIAS)
    assert [s.action for s in bias[:-1]] == list(ACTIONS["avoidable_bias"])
    assert bias[-1].stage == "tune"
    mismatch = next_steps(MISMATCH)
    assert mismatch[0].stage == "data" and "error analysis" in mismatch[0].action
    assert next_steps(VARIANCE)[0].action == ACTIONS["variance"][0]


def test_the_learning_curve_decides_more_data_or_regularization():
    assert next_steps(VARIANCE, learning_curve=curve(True))[0].action == "get more training data"
    steps = next_steps(VARIANCE, learning_curve=curve(False))
    assert steps[0].action == "regularize rather than gather data"
    assert "get more training data" not in [s.action for s in steps]
    assert "verdict" in steps[0].why


def test_label_errors_then_tuning_when_nothing_else_is_wrong():
    steps = next_steps(NONE, suspected_label_errors=0.04)
    assert [s.stage for s in steps] == ["data", "tune"]
    assert "4.0%" in steps[0].why
    only = next_steps(NONE, suspected_label_errors=0.001)
    assert [s.stage for s in only] == ["tune"] and "no gap" in only[0].why


def test_the_label_review_names_the_top_flags_the_planted_flips_point_to():
    triage = LabelTriage(50, 40, 0.8, (0.67, 0.89), 400, 120, 0.8, 0.6, 375.0, None, None, None)
    review = next_steps(NONE, suspected_label_errors=0.04, label_triage=triage)[0]
    assert review.action.startswith("review the top 120 suspected label errors")
    assert triage.message in review.why and "at most 60%" in review.why
    none_alike = next_steps(NONE, suspected_label_errors=0.04,
                            label_triage=triage._replace(review_top=0))[0]
    assert none_alike.action.startswith("review the suspected label errors")
    assert "look like the model's own confident mistakes" in none_alike.why


def test_the_tuning_step_reads_the_search():
    dev = MISMATCH.errors["dev"]
    better = {"hparams": {"learning_rate": 0.00287, "depth": 2}, "dev_error": dev - 0.011}
    step = next_steps(MISMATCH, search_best=better)[-1]
    assert step.stage == "tune"
    assert step.action == ("retrain with the search's best hyperparameters (learning_rate "
                           "0.00287, depth 2)")
    assert f"{dev - 0.011:.2%} against the model's {dev:.2%}" in step.why
    close = {"hparams": {"learning_rate": 0.01}, "dev_error": dev - 0.004}  # within half a point
    assert next_steps(MISMATCH, search_best=close)[-1].action.startswith("search wider")
    # a bar set by the dev set's resolution (or the seed spread): 1.1 points is not enough
    # where the dev set only resolves 2
    step = next_steps(MISMATCH, search_best=better, search_min_gain=0.02)[-1]
    assert step.action.startswith("search wider") and "within the 2.00%" in step.why
    # the learning-rate range test's pick leads the tuning when it is over 3x off
    far = next_steps(MISMATCH, learning_rate=(3e-4, 5.3e-3))
    assert far[-2].stage == "tune" and far[-2].action == (
        "set optimizer.learning_rate=0.0053 (now 0.0003)") and "18x away" in far[-2].why
    near = next_steps(MISMATCH, learning_rate=(3e-4, 6e-4))
    assert not any("learning_rate=" in s.action for s in near)


def test_labels_at_chance_come_before_every_other_step():
    y = np.repeat(np.arange(10), 10)
    at_chance = chance_level_check("train_dev", 0.88, y, y, 10, train_error=0.05)
    steps = next_steps(BIAS, gradcheck_ok=False, sanity=[at_chance])
    assert steps[0].stage == "debug" and steps[0].action.startswith("labels do not match")
    assert "at chance (90.0%" in steps[0].why
    assert steps[1].action.startswith("fix the gradient")
    clear = chance_level_check("train_dev", 0.10, y, y, 10)
    assert not any("labels do not match" in s.action for s in next_steps(BIAS, sanity=[clear]))
    # at chance on train too (a diverged run): the other debug steps say why, and come first
    diverged = chance_level_check("train_dev", 0.9, y, y, 10, train_error=0.9)
    steps = next_steps(BIAS, sanity=[diverged], overfit=failed_overfit("explodes"))
    assert steps[0].action.startswith("make one batch overfit")
    assert steps[1].action.startswith("the model learns nothing that beats chance")


def test_a_majority_of_suspected_labels_is_a_mismatch_not_label_noise():
    steps = next_steps(VARIANCE, suspected_label_errors=0.8)
    assert steps[0].stage == "debug" and "labels do not match" in steps[0].action
    assert "80.0% of the training labels" in steps[0].why
    assert not any("labels do not match" in s.action
                   for s in next_steps(VARIANCE, suspected_label_errors=0.05))


def test_overfitting_leads_the_gap_steps_with_early_stopping():
    found = overfitting_from_curves([100, 200, 300], [1.0, 0.5, 0.2], [0.8, 0.6, 0.7])
    steps = next_steps(VARIANCE, overfitting=found)
    assert steps[0].stage == "improve" and "stop early at step 200" in steps[0].action
    assert steps[0].why == found.message
    assert [s.action for s in steps[1:len(ACTIONS["variance"]) + 1]] == list(ACTIONS["variance"])
    # a bug still comes first, and then only the top gap step: early stopping
    debug = next_steps(VARIANCE, gradcheck_ok=False, overfitting=found)
    assert [s.stage for s in debug] == ["debug", "improve"] and "stop early" in debug[1].action


def test_a_measured_remedy_leads_the_gap_steps_and_an_unmeasured_mismatch_asks_for_one():
    helped = RemedyEffect("synthesis", (0.0, 1.0), 3, {}, 1.0, {"dev": 0.1, "test": 0.12},
                          {"dev": 0.05, "test": 0.06}, -0.06, (-0.08, -0.04), True)
    steps = next_steps(MISMATCH, remedy=helped)
    assert steps[0] == NextStep("data", "train with synthesis at weight 1 "
                                "(jaxdiag.search.RemedyTask)", helped.message)
    assert not any(s.action.startswith("measure a remedy") for s in steps)
    flat = helped._replace(test_change=0.01, test_interval=(-0.02, 0.04), significant=False)
    assert next_steps(MISMATCH, remedy=flat)[0].action.startswith("leave synthesis out")
    weights = flat._replace(remedy="class_weights")
    assert next_steps(BIAS, remedy=weights)[0].stage == "improve"
    unmeasured = [s.action for s in next_steps(MISMATCH)]
    assert any(a.startswith("measure a remedy against the model: jaxdiag run --set "
                            "remedy=synthesis") for a in unmeasured)
    assert not any(a.startswith("measure a remedy") for a in
                   (s.action for s in next_steps(BIAS)))
