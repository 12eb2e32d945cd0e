"""Figures of training: loss and error curves per split, and per-layer histograms."""

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from jaxdiag.experiment.history import History

SPLIT_COLORS = {"train": "C0", "train_dev": "C1", "dev": "C2", "test": "C3", "test_source": "C4"}


def draw_loss_curves(history: History, findings: list[dict]) -> Figure:
    """Loss (log scale) and error against the step, per split, with the pathologies marked.

    Args:
      history: the training history: ``train_loss`` [[step, minibatch loss averaged over
        the chunk ending there], ...] and ``eval`` [{"step", split: {"loss", "error", ...}},
        ...].
      findings: loss-curve pathologies, each {"kind", "step", ...}; each is drawn as a dashed
        vertical line labelled with its kind.

    Returns:
      A figure of two panels side by side.
    """
    figure = Figure(figsize=(11, 4), layout="constrained")
    loss_ax, error_ax = figure.subplots(1, 2)
    if history.train_loss:
        steps, losses = np.array(history.train_loss, np.float64).T
        loss_ax.plot(steps, losses, color="C0", alpha=0.45, lw=1,
                     label="train (minibatches, chunk mean)")
    evaluations = history.eval
    splits = [k for k in (evaluations[0] if evaluations else {}) if k != "step"]
    eval_steps = [e["step"] for e in evaluations]
    for split in splits:
        color = SPLIT_COLORS.get(split)
        loss_ax.plot(eval_steps, [e[split]["loss"] for e in evaluations], "o-", ms=3,
                     color=color, label=split)
        error_ax.plot(eval_steps, [100 * e[split]["error"] for e in evaluations], "o-", ms=3,
                      color=color, label=split)
    for finding in findings:
        for ax in (loss_ax, error_ax):
            ax.axvline(finding["step"], color="crimson", ls="--", lw=1)
        loss_ax.annotate(finding["kind"].replace("_", " "), (finding["step"], 1.0),
                         xycoords=("data", "axes fraction"), rotation=90, va="top",
                         ha="right", color="crimson", fontsize=8)
    loss_ax.set(yscale="log", xlabel="training step", ylabel="cross-entropy loss (nats)",
                title="loss")
    error_ax.set(xlabel="training step", ylabel="error (%)", title="error at each evaluation")
    for ax in (loss_ax, error_ax):
        ax.grid(alpha=0.3)
        if ax.has_data():
            ax.legend(fontsize=8)
    return figure


def draw_layer_histograms(snapshots: Sequence[dict], kind: str) -> Figure:
    """One panel per layer (activations) or parameter (gradients): its histogram at each
    snapshot (the first step against the last), overlaid.

    Args:
      snapshots: each {"step": s, kind: {name: {"counts": (bins,), "edges": (bins + 1,)}}},
        as ``report.json``'s "layer_histograms" holds them.
      kind: "activations" or "gradients". The legend gives each snapshot's standard
        deviation (from the histogram), so that a distribution that shrank to a spike still
        shows its scale.

    Returns:
      A figure with up to three panels per row.
    """
    names = list(snapshots[0][kind])
    columns = min(3, len(names))
    rows = math.ceil(len(names) / columns)
    figure = Figure(figsize=(3.8 * columns, 2.7 * rows), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns)).ravel()
    for ax in axes[len(names):]:
        ax.axis("off")
    for ax, name in zip(axes, names, strict=False):
        for snapshot, color in zip(snapshots, ("C0", "C3", "C2", "C1"), strict=False):
            counts, edges = (np.asarray(snapshot[kind][name][k]) for k in ("counts", "edges"))
            centers = (edges[:-1] + edges[1:]) / 2
            mean = (counts * centers).sum() / counts.sum()
            std = np.sqrt((counts * (centers - mean) ** 2).sum() / counts.sum())
            ax.stairs(counts, edges, color=color, lw=1.3,
                      label=f"step {snapshot['step']} (std {std:.2g})")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("activation value" if kind == "activations" else "gradient value",
                      fontsize=8)
        ax.set_ylabel("count", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    return figure
