"""The figures of tuning: a search's hyperparameters against dev error, and the learning-rate
range test."""

import math

import numpy as np
from matplotlib.figure import Figure


def draw_hyperparameter_scatter(trials: list[dict], space: dict) -> Figure:
    """One panel per hyperparameter: every finished trial's value against its dev error, the
    best trial starred; log-scaled axes for log-uniform dimensions.

    Args:
      trials: the trial store's rows, each {"id", "status", "hparams": {name: value},
        "dev_error" (None or NaN when it failed)}.
      space: {name: {"type", ...}}, the search space as ``report.json`` holds it.

    Returns:
      A figure with up to three panels per row; failed and stopped trials are counted in the
      title, not drawn.
    """
    finished = [t for t in trials if t["status"] == "complete" and t["dev_error"] is not None
                and math.isfinite(t["dev_error"])]
    names = list(space)
    columns = min(3, len(names))
    rows = math.ceil(len(names) / columns)
    figure = Figure(figsize=(4 * columns, 3.3 * rows), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns, sharey=True)).ravel()
    for ax in axes[len(names):]:
        ax.axis("off")
    best = min(finished, key=lambda t: t["dev_error"]) if finished else None
    for ax, name in zip(axes, names, strict=False):
        ax.scatter([t["hparams"][name] for t in finished],
                   [100 * t["dev_error"] for t in finished], s=22, color="C0", alpha=0.8)
        if best is not None:
            ax.plot([best["hparams"][name]], [100 * best["dev_error"]], "*", ms=14,
                    color="crimson", label=f"best: trial {best['id']}")
            ax.legend(fontsize=8)
        log = space[name].get("type") == "log_uniform"
        if log:
            ax.set_xscale("log")
        ax.set(xlabel=name.replace("_", " ") + (" (log scale)" if log else ""),
               ylabel="dev error (%)")
        ax.grid(alpha=0.3)
    unfinished = len(trials) - len(finished)
    figure.suptitle(f"{len(finished)} trials against dev error"
                    + (f" ({unfinished} failed or stopped, not drawn)" if unfinished else ""),
                    fontsize=10)
    return figure


def draw_learning_rate_range(lr_range: dict) -> Figure:
    """Each seed's final loss (the pick's criterion: dev or training loss) against the learning
    rate (log scale), their mean, the pick and the configured rate.

    Args:
      lr_range: ``LearningRateRange.as_dict()`` with "configured": {"learning_rates" (K,),
        "final_loss" and "dev_loss" (K, S) with None where a member diverged, "criterion",
        "pick", "steps", "configured"}.
    """
    rates = np.asarray(lr_range["learning_rates"], np.float64)
    criterion = lr_range["criterion"]
    read = lr_range["dev_loss" if criterion == "dev_loss" else "final_loss"]
    loss = np.array([[np.nan if v is None else v for v in row] for row in read])
    figure = Figure(figsize=(7, 4.2), layout="constrained")
    ax = figure.subplots()
    for s in range(loss.shape[1]):
        ax.plot(rates, loss[:, s], "o", ms=4, color="C0", alpha=0.5,
                label="each seed" if s == 0 else None)
    ax.plot(rates, np.nanmean(loss, axis=1), "-", color="C0", label="mean over seeds")
    diverged = np.isnan(loss).any(axis=1)
    if diverged.any():
        ax.plot(rates[diverged], np.full(diverged.sum(), np.nanmax(loss)), "x", color="crimson",
                label="a seed diverged")
    ax.axvline(lr_range["pick"], color="crimson", lw=1.2,
               label=f"pick: {lr_range['pick']:.2g}")
    ax.axvline(lr_range["configured"], color="0.3", ls=":", lw=1.2,
               label=f"configured: {lr_range['configured']:.2g}")
    ax.set(xscale="log", yscale="log", xlabel="learning rate (log scale)",
           ylabel=f"{criterion.replace('_', ' ')} after {lr_range['steps']} steps",
           title="learning-rate range test: one member per rate and seed")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return figure
