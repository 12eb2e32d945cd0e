"""Figures of what the error is made of: the bias / variance bars, the confusion matrix and the
learning curve."""

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

ERROR_LEVELS = {"human": "human level", "train": "train", "train_dev": "train-dev",
                "dev": "dev", "test": "test"}
GAP_NAMES = {"avoidable_bias": "avoidable bias\n(train - human)",
             "variance": "variance\n(train-dev - train)",
             "data_mismatch": "data mismatch\n(dev - train-dev)",
             "dev_overfitting": "dev overfitting\n(test - dev)"}


def draw_bias_variance(decomposition: dict, splits: dict | None = None) -> Figure:
    """Ng's decomposition: each error level as a bar, then each gap, the dominant one in red;
    with intervals, each bar carries its error bar and a non-significant gap is hatched.

    Args:
      decomposition: ``BiasVariance.as_dict()``: {"errors": {level: fraction or None},
        "gaps": {gap: fraction or None}, "dominant": gap name or None[, "intervals": {gap:
        [low, high] or None}, "significant": {gap: bool}]}.
      splits: ``ErrorIntervals.as_dict()["splits"]``, {split: {"wilson": [low, high]}}, or None.

    Returns:
      A figure of two panels: errors (%) and gaps (percentage points).
    """
    figure = Figure(figsize=(11, 3.8), layout="constrained")
    levels_ax, gaps_ax = figure.subplots(1, 2, width_ratios=(1, 1.3))
    levels = [(k, label, decomposition["errors"][k]) for k, label in ERROR_LEVELS.items()
              if decomposition["errors"].get(k) is not None]
    values = [100 * v for _, _, v in levels]
    errors = None
    if splits:
        errors = np.array([[100 * (v - splits[k]["wilson"][0]), 100 * (splits[k]["wilson"][1] - v)]
                           if k in splits else [0.0, 0.0] for k, _, v in levels]).T
    bars = levels_ax.bar([label for _, label, _ in levels], values, yerr=errors, capsize=3,
                         color=["0.6", "C0", "C1", "C2", "C3"][:len(levels)])
    tops = values if errors is None else np.add(values, errors[1])  # above the error bars
    for bar, top, value in zip(bars, tops, values, strict=True):
        levels_ax.text(bar.get_x() + bar.get_width() / 2, top, f"{value:.2f}%", ha="center",
                       va="bottom", fontsize=8)
    levels_ax.set_ylim(0, 1.12 * max(1e-3, *tops))
    levels_ax.axhline(100 * decomposition["errors"]["human"], color="0.3", ls=":", lw=1,
                      label="human level (Bayes proxy)")
    levels_ax.set(ylabel="error (%)", title="error at each level"
                  + (" (Wilson intervals)" if splits else ""))
    levels_ax.legend(fontsize=8)
    gaps = [(k, v) for k, v in decomposition["gaps"].items() if v is not None]
    gap_values = [100 * v for _, v in gaps]
    colors = ["crimson" if k == decomposition["dominant"] else "0.55" for k, _ in gaps]
    intervals = decomposition.get("intervals")
    spans = None
    if intervals:
        spans = np.array([[100 * (v - intervals[k][0]), 100 * (intervals[k][1] - v)]
                          for k, v in gaps]).T
    bars = gaps_ax.barh([GAP_NAMES.get(k, k) for k, _ in gaps], gap_values, color=colors,
                        xerr=spans, capsize=3)
    if intervals:
        for bar, (k, _) in zip(bars, gaps, strict=True):
            if not decomposition["significant"][k]:
                bar.set(hatch="//", alpha=0.5)
    gaps_ax.bar_label(bars, [f"{v:+.2f}" for v in gap_values], fontsize=8, padding=2)
    gaps_ax.axvline(0, color="0.3", lw=0.8)
    ends = np.array(gap_values)
    if spans is not None:
        ends = np.concatenate([ends - spans[0], ends + spans[1]])
    low, high = min(0.0, *ends.tolist()), max(0.0, *ends.tolist())
    gaps_ax.set_xlim(low - 0.15 * (high - low) - 0.1, high + 0.15 * (high - low) + 0.1)
    gaps_ax.invert_yaxis()
    gaps_ax.tick_params(axis="y", labelsize=8)
    dominant = decomposition["dominant"]
    gaps_ax.set(xlabel="gap (percentage points)"
                + ("; hatched: interval contains 0" if intervals else ""),
                title="gaps" + (f": {dominant.replace('_', ' ')} dominates (red)" if dominant
                                else ": none significant" if intervals
                                else ": none above tolerance"))
    for ax in (levels_ax, gaps_ax):
        ax.grid(alpha=0.3, axis="x" if ax is gaps_ax else "y")
    return figure


def draw_confusion(confusion: Sequence[Sequence[int]], class_names: Sequence[str],
                   split: str) -> Figure:
    """The confusion matrix: cells colored by the share of their true class (row), labelled
    with counts; the diagonal is what went right.

    Args:
      confusion: (C, C) counts, rows true classes, columns predicted.
      class_names: C names.
      split: the split's name, for the title.
    """
    counts = np.asarray(confusion, np.float64)
    rows = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    size = max(4.0, 0.45 * len(class_names) + 2)
    figure = Figure(figsize=(size + 1, size), layout="constrained")
    ax = figure.subplots()
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (i, j), count in np.ndenumerate(counts):
        if count:
            ax.text(j, i, f"{count:.0f}", ha="center", va="center", fontsize=7,
                    color="white" if shares[i, j] > 0.5 else ("crimson" if i != j else "black"))
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, class_names, fontsize=8, rotation=90 if len(class_names) > 12 else 0)
    ax.set_yticks(ticks, class_names, fontsize=8)
    ax.set(xlabel="predicted class", ylabel="true class",
           title=f"{split}: confusion matrix (counts; color = share of the true class)")
    figure.colorbar(image, ax=ax, shrink=0.8, label="share of the true class")
    return figure


def draw_learning_curve(curve: dict, human_error: float) -> Figure:
    """Train and dev error against the number of training examples, the power law fitted to
    the dev error extrapolated to twice the data, and human-level error.

    Args:
      curve: ``LearningCurve.as_dict()``: "sizes", "train_error", "dev_error",
        "dev_error_std", "law" {"a", "b", "c"} (error = c + a n^-b), "at_double", "message".
      human_error: human-level error, a fraction.
    """
    sizes = np.asarray(curve["sizes"], np.float64)
    figure = Figure(figsize=(7, 4.2), layout="constrained")
    ax = figure.subplots()
    ax.plot(sizes, 100 * np.asarray(curve["train_error"]), "o-", color="C0", label="train")
    ax.errorbar(sizes, 100 * np.asarray(curve["dev_error"]),
                yerr=100 * np.asarray(curve["dev_error_std"]), fmt="o-", color="C2",
                capsize=3, label="dev (mean ± std over seeds)")
    law = curve["law"]
    n = np.geomspace(sizes[0], 2 * sizes[-1], 100)
    ax.plot(n, 100 * (law["c"] + law["a"] * n ** -law["b"]), "--", color="C2", alpha=0.7,
            label=f"power law fit: {100 * law['c']:.2f}% + a·n^-{law['b']:.2f}")
    ax.plot([2 * sizes[-1]], [100 * curve["at_double"]], "*", ms=12, color="C2",
            label=f"predicted with {2 * sizes[-1]:.0f} examples: {curve['at_double']:.2%}")
    ax.axhline(100 * human_error, color="0.3", ls=":", lw=1, label="human level")
    ax.set(xscale="log", xlabel="training examples (log scale)", ylabel="error (%)",
           title="learning curve: should we gather more data?")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return figure
