"""Figures of the predicted probabilities: PR and ROC curves, risk against coverage, and the
reliability diagram, each computed with ``jaxdiag.metrics``.

The metrics run under ``jax.jit`` (every class's curves in one ``vmap``): one compiled program
per figure instead of an eager dispatch per operation. Jitted curves have one point per example,
points inside a tie repeating their threshold's point, which draws the same line.

Each ``draw_*`` returns ``(figure, summary)``: the summary holds the numbers the figure shows,
for ``report.json``.
"""

from collections.abc import Sequence
from functools import partial

import jax
import numpy as np
from matplotlib.figure import Figure

from jaxdiag import metrics

COVERAGE = 0.95  # Goodfellow et al.'s Street View operating point
RELIABILITY_BINS = 15


def _binary_curves(truth: jax.Array, score: jax.Array) -> tuple[jax.Array, ...]:
    """(precision, recall, false positive rate, true positive rate, AP, ROC AUC)."""
    precision, recall, _ = metrics.precision_recall_curve(truth, score)
    fpr, tpr, _ = metrics.roc_curve(truth, score)
    return (precision, recall, fpr, tpr, metrics.average_precision_score(truth, score),
            metrics.roc_auc_score(truth, score))


_one_vs_rest = jax.jit(jax.vmap(_binary_curves, in_axes=1))
_pooled = jax.jit(_binary_curves)


@partial(jax.jit, static_argnums=(2, 3))
def _selective(y: jax.Array, probabilities: jax.Array, coverage: float, num_bins: int):
    """The risk-coverage curve, the accuracy at ``coverage``, the reliability table and ECE."""
    labels = tuple(range(probabilities.shape[1]))
    return (metrics.risk_coverage_curve(y, probabilities, labels=labels),
            metrics.accuracy_at_coverage(y, probabilities, coverage=coverage, labels=labels),
            metrics.reliability_table(y, probabilities, num_bins=num_bins, labels=labels),
            metrics.expected_calibration_error(y, probabilities, num_bins=num_bins,
                                               labels=labels))


def draw_pr_roc(y: np.ndarray, probabilities: np.ndarray, class_names: Sequence[str],
                split: str) -> tuple[Figure, dict]:
    """One-vs-rest precision-recall and ROC curves of every class, and their micro average.

    Args:
      y: int labels (n,); probabilities: float (n, C); class_names: C names; split: its name.

    Returns:
      The figure (PR left, ROC right) and {"average_precision": {class: AP, "micro": AP},
      "roc_auc": {class: AUC, "micro": AUC}}; a class absent from ``y`` is left out.
    """
    figure = Figure(figsize=(11, 4.6), layout="constrained")
    pr_ax, roc_ax = figure.subplots(1, 2)
    indicator = y[:, None] == np.arange(probabilities.shape[1])
    per_class = jax.device_get(_one_vs_rest(indicator, probabilities))
    pooled = jax.device_get(_pooled(indicator.ravel(), probabilities.ravel()))
    columns = [(name, [field[c] for field in per_class])
               for c, name in enumerate(class_names) if indicator[:, c].any()]
    columns.append(("micro", pooled))
    summary: dict = {"average_precision": {}, "roc_auc": {}}
    for name, (precision, recall, fpr, tpr, ap, auc) in columns:
        micro = name == "micro"
        style = {"color": "black", "lw": 2.2} if micro else {"lw": 0.9, "alpha": 0.75}
        ap, auc = float(ap), float(auc)
        summary["average_precision"][name] = ap
        summary["roc_auc"][name] = auc
        label = "micro average" if micro else f"class {name}"
        pr_ax.plot(recall, precision, drawstyle="steps-post", label=f"{label} (AP {ap:.3f})",
                   **style)
        roc_ax.plot(fpr, tpr, label=f"{label} (AUC {auc:.3f})", **style)
    roc_ax.plot([0, 1], [0, 1], ":", color="0.5", lw=1, label="chance")
    pr_ax.set(xlabel="recall", ylabel="precision", title=f"{split}: precision-recall, one vs rest",
              xlim=(0, 1.01), ylim=(0, 1.02))
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate",
               title=f"{split}: ROC, one vs rest", xlim=(0, 1), ylim=(0, 1.02))
    for ax in (pr_ax, roc_ax):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6.5, ncols=2, loc="lower left" if ax is pr_ax else "lower right")
    return figure, summary


def draw_risk_coverage(y: np.ndarray, probabilities: np.ndarray, split: str,
                       coverage: float = COVERAGE) -> tuple[Figure, dict]:
    """Error among the examples the model is most confident about, against their share.

    The point at ``coverage`` is Goodfellow et al.'s accuracy-at-coverage (Street View: 98%
    accuracy at 95% coverage).

    Returns:
      The figure and {"coverage", "accuracy_at_coverage", "error_at_full_coverage"}.
    """
    (covered, risk, _), accuracy, _, _ = jax.device_get(_selective(y, probabilities, coverage,
                                                                   RELIABILITY_BINS))
    accuracy = float(accuracy)
    figure = Figure(figsize=(7, 4.2), layout="constrained")
    ax = figure.subplots()
    ax.plot(100 * np.asarray(covered), 100 * np.asarray(risk), color="C2", marker=".", ms=3,
            label="error on the examples kept at each confidence threshold")
    ax.plot([100 * coverage], [100 * (1 - accuracy)], "o", ms=8, color="crimson",
            label=f"{accuracy:.2%} accuracy at {coverage:.0%} coverage")
    ax.axvline(100 * coverage, color="crimson", ls=":", lw=1)
    ax.set(xlabel="coverage: share of examples answered (%)",
           ylabel="error among them (%)", xlim=(0, 101),
           title=f"{split}: risk against coverage (answer only when confident)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    summary = {"coverage": coverage, "accuracy_at_coverage": accuracy,
               "error_at_full_coverage": float(np.asarray(risk)[-1])}
    return figure, summary


def draw_reliability(y: np.ndarray, probabilities: np.ndarray, split: str,
                     num_bins: int = RELIABILITY_BINS) -> tuple[Figure, dict]:
    """The reliability diagram: accuracy against confidence per bin, over the share of
    examples in each bin; the gap to the diagonal is miscalibration.

    Returns:
      The figure and {"expected_calibration_error", "num_bins"}.
    """
    _, _, table, ece = jax.device_get(_selective(y, probabilities, COVERAGE, num_bins))
    ece = float(ece)
    lower, upper = np.asarray(table.lower), np.asarray(table.upper)
    accuracy, weight = np.asarray(table.accuracy), np.asarray(table.weight)
    confidence = np.asarray(table.confidence)
    figure = Figure(figsize=(6, 6), layout="constrained")
    curve_ax, count_ax = figure.subplots(2, 1, height_ratios=(3, 1), sharex=True)
    filled = weight > 0
    width = upper - lower
    curve_ax.bar(lower[filled], accuracy[filled], width[filled], align="edge", color="C0",
                 edgecolor="white", label="accuracy in the bin")
    gap = (confidence - accuracy)[filled]
    curve_ax.bar(lower[filled], np.abs(gap), width[filled],
                 bottom=np.minimum(accuracy, confidence)[filled], align="edge", fill=False,
                 edgecolor="crimson", hatch="///", lw=0.8,
                 label="gap to the mean confidence (white: over-confident)")
    curve_ax.plot([0, 1], [0, 1], ":", color="0.3", label="perfect calibration")
    curve_ax.set(ylabel="accuracy", ylim=(0, 1), xlim=(0, 1),
                 title=f"{split}: reliability diagram (expected calibration error {ece:.2%})")
    curve_ax.legend(fontsize=8, loc="upper left")
    count_ax.bar(lower, 100 * weight / weight.sum(), width, align="edge", color="0.55",
                 edgecolor="white")
    count_ax.set(xlabel="confidence (top predicted probability)", ylabel="examples (%)")
    for ax in (curve_ax, count_ax):
        ax.grid(alpha=0.3)
    return figure, {"expected_calibration_error": ece, "num_bins": num_bins}
