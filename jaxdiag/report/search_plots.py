"""The figure of a hyperparameter search: each hyperparameter against dev error."""

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
