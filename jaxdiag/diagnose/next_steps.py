"""The troubleshooting decision tree: what to do next, most urgent first.

Full Stack Deep Learning's order: implement and debug until the model has no bug (the gradient
is right, the sanity checks pass, one batch can be overfit, training is healthy); then evaluate
and attack the largest gap of the bias / variance / mismatch decomposition (Ng); then tune.
A step further down the tree is only worth taking when the ones above it are settled.
"""

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from jaxdiag.diagnose.bias_variance import BiasVariance
from jaxdiag.diagnose.label_triage import LabelTriage
from jaxdiag.diagnose.learning_curve import LearningCurve
from jaxdiag.diagnose.loss_curve import CurveFinding
from jaxdiag.diagnose.overfit_batch import OverfitResult
from jaxdiag.diagnose.overfitting import Overfitting
from jaxdiag.diagnose.remedy_effect import RemedyEffect
from jaxdiag.diagnose.sanity import SanityCheck

STAGES = ("debug", "improve", "data", "tune")
SEARCH_GAIN = 0.005  # a searched trial must beat the model's dev error by this to be adopted
LABEL_ERROR_SHARE = 0.01  # suspected label errors above this share of the data deserve a look
LABEL_MISMATCH_SHARE = 0.3  # above this share, the labels as a whole do not fit the inputs
LEARNING_RATE_FACTOR = 3.0  # a range-test pick this many times off the configured rate counts
MISMATCH_REMEDIES = ("synthesis", "coral", "dann")  # the others treat class imbalance


class NextStep(NamedTuple):
    """One recommendation: its stage of the decision tree, what to do and why."""

    stage: str
    action: str
    why: str


def next_steps(
    decomposition: BiasVariance,
    *,
    gradcheck_ok: bool = True,
    sanity: Sequence[SanityCheck] = (),
    overfit: OverfitResult | None = None,
    curve: Sequence[CurveFinding] = (),
    learning_curve: LearningCurve | None = None,
    suspected_label_errors: float = 0.0,
    label_triage: LabelTriage | None = None,
    search_best: dict | None = None,
    overfitting: Overfitting | None = None,
    search_min_gain: float = SEARCH_GAIN,
    learning_rate: tuple[float, float] | None = None,
    remedy: RemedyEffect | None = None,
) -> list[NextStep]:
    """The recommended next steps, most urgent first.

    Args:
      decomposition: the bias / variance / mismatch analysis of the trained model.
      gradcheck_ok: whether the finite-difference gradient check passed.
      sanity: the sanity checks (initial loss, input scale, labels, chance level); a failed
        chance-level check with the training error below chance (labels that do not match
        their inputs) comes first of all; with the training error at chance too, it comes
        after the other debug steps, which say why the model learns nothing.
      overfit: the overfit-one-batch result, when it ran.
      curve: pathologies of the training loss curve.
      learning_curve: the learning curve, when it ran.
      suspected_label_errors: the share of training examples confident learning suspects.
      label_triage: what planted flips say about those suspects; the review step then names
        the top flags that hold most of the findable errors, and their precision.
      search_best: the best trial of a hyperparameter search that ran, {"hparams": {name:
        value}, "dev_error": fraction[, "model": the class it trained]}; the tuning step then
        says whether it beat the model on dev by at least ``search_min_gain``, with which
        values and of which model.
      overfitting: dev loss that turned up while the training loss fell; with no bug, early
        stopping at its best step leads the gap-driven steps (Goodfellow 7.8).
      search_min_gain: the smallest gain of dev error that counts (the main job passes the
        dev set's significant difference, ``dev_set_resolution(n, error, power=0.5)``, or
        twice the seed spread where larger); default half a point.
      learning_rate: (the configured rate, the range test's pick); a pick more than 3x away
        leads the tuning steps (Goodfellow 11.4.1: the one hyperparameter to tune first).
      remedy: a remedy measured against the model as it is; its verdict leads the gap-driven
        steps. Without one, a dominant data mismatch adds the step of measuring one.

    Returns:
      NextStep list. Any "debug" step comes first and then only the first gap-driven step
      follows ("fix the bugs before reading the gaps"); with no bug: the dominant gap's
      actions (for variance, led by the learning curve's verdict on more data), a look at
      suspected label errors, and tuning.
    """
    failed = [s for s in sanity if not s.ok and s.causes]
    chance = [s for s in failed if s.name == "chance_level"]
    # labels that do not match their inputs (train memorized, held-out at chance) come first:
    # nothing below reads right without them; a model at chance on train too comes last
    steps = [NextStep("debug", s.causes[0], s.message) for s in chance
             if s.values["train_below_chance"]]
    if not gradcheck_ok:
        steps.append(NextStep("debug", "fix the gradient: it disagrees with finite differences",
                              "the gradient check failed"))
    steps += [NextStep("debug", s.causes[0], s.message) for s in failed if s.name != "chance_level"]
    if overfit is not None and not overfit.passed:
        finding = overfit.findings[0]
        steps.append(NextStep(
            "debug", f"make one batch overfit: {finding.causes[0]}",
            f"overfitting a single batch failed, the loss {finding.kind.replace('_', ' ')}: "
            f"{finding.evidence}"))
    steps += [NextStep("debug", f.causes[0], f"the training loss {f.kind.replace('_', ' ')}: "
                       f"{f.evidence}") for f in curve]
    steps += [NextStep("debug", s.causes[0], s.message) for s in chance
              if not s.values["train_below_chance"]]
    if suspected_label_errors > LABEL_MISMATCH_SHARE and not any(
            s.name == "chance_level" and not s.ok for s in sanity):
        steps.append(NextStep(
            "debug", "labels do not match inputs: check the join of features and labels (row "
            "order, ids, the label column) before reading any gap",
            f"confident learning suspects {suspected_label_errors:.1%} of the training labels, "
            "far more than label noise explains"))
    gap = decomposition.dominant
    gap_steps = []
    if gap is not None:
        value = decomposition.gaps[gap]
        why = f"{gap.replace('_', ' ')} is the largest gap ({value:.2%})"
        actions = list(decomposition.actions)
        if gap == "variance" and learning_curve is not None:
            lead = ("get more training data" if learning_curve.more_data_helps else
                    "regularize rather than gather data")
            actions = [lead, *[a for a in actions if a != "get more training data"]]
            why += f"; learning curve: {learning_curve.message}"
        gap_steps = [NextStep("improve" if gap != "data_mismatch" else "data", a, why)
                     for a in actions]
    if remedy is not None:
        stage = "data" if remedy.remedy in MISMATCH_REMEDIES else "improve"
        action = (f"train with {remedy.remedy} at weight {remedy.picked:g} "
                  "(jaxdiag.search.RemedyTask)" if remedy.significant and remedy.test_change < 0
                  else f"leave {remedy.remedy} out: it did not help here; measure another "
                  "remedy (--set remedy=...)")
        gap_steps.insert(0, NextStep(stage, action, remedy.message))
    elif gap == "data_mismatch":
        gap_steps.append(NextStep(
            "data", "measure a remedy against the model: jaxdiag run --set remedy=synthesis "
            "(images with the built-in shift), remedy=coral or remedy=dann (domain adaptation on "
            "unlabelled target inputs)", why))
    if overfitting is not None:
        gap_steps.insert(0, NextStep(
            "improve", f"stop early at step {overfitting.best_step} (use checkpoints/best, or "
            "set train.patience), then regularize", overfitting.message))
    if steps:
        return steps + gap_steps[:1]
    if suspected_label_errors > LABEL_ERROR_SHARE:
        why = f"confident learning suspects {suspected_label_errors:.1%} of the training labels"
        action = "review the suspected label errors and relabel the real ones"
        if label_triage is not None:
            why += f"; {label_triage.message}"
            if label_triage.review_top:
                action = (f"review the top {label_triage.review_top} suspected label errors "
                          "(least self-confident first) and relabel the real ones")
        gap_steps.append(NextStep("data", action, why))
    nothing = " and no significant gap" if decomposition.significant else \
        " and no gap above tolerance"
    why = "no bug found" + ("" if gap else nothing)
    if learning_rate is not None and np.isfinite(learning_rate[1]) and \
            max(learning_rate) / min(learning_rate) > LEARNING_RATE_FACTOR:
        configured, pick = learning_rate
        gap_steps.append(NextStep(
            "tune", f"set optimizer.learning_rate={pick:.2g} (now {configured:.2g})",
            f"{why}; the learning-rate range test's best rate, robust across its seeds, is "
            f"{max(learning_rate) / min(learning_rate):.0f}x away from the configured one"))
    gap_steps.append(_tuning_step(decomposition.errors["dev"], search_best, why,
                                  search_min_gain))
    return gap_steps


def _tuning_step(dev_error: float, search_best: dict | None, why: str,
                 min_gain: float) -> NextStep:
    if search_best is None:
        return NextStep("tune", "tune the hyperparameters (random or quasi-random search: "
                        "jaxdiag sweep)", why)
    values = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                       for k, v in search_best["hparams"].items())
    versus = f"dev error {search_best['dev_error']:.2%} against the model's {dev_error:.2%}"
    of = f" of {search_best['model']}" if search_best.get("model") else ""
    if search_best["dev_error"] <= dev_error - min_gain:
        return NextStep("tune", f"retrain with the search's best hyperparameters{of} ({values})",
                        f"{why}; the random search's best trial has {versus}, a gain above the "
                        f"{min_gain:.2%} this dev set resolves")
    return NextStep("tune", "search wider or longer (jaxdiag sweep): the random search found "
                    "nothing significantly better", f"{why}; its best trial has {versus}, "
                    f"within the {min_gain:.2%} this dev set cannot tell apart")
