"""The training history: what the loop records, checkpoints, and the report draws."""

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

STOP_REASONS = ("diverged", "early_stopping")


@dataclass
class History:
    """What happened during one run's training, as JSON-able lists and numbers.

    Attributes:
      train_loss: [[step, mean minibatch loss of the chunk ending there], ...].
      eval: [{"step": s, split: {metric: value, ...}, ...}, ...], one per evaluation.
      monitor: [{"step": s, "alerts": [Alert as dict, ...]}, ...] for monitored chunks.
      stopped: None (ran to the last step), "diverged" (a NaN/Inf loss) or "early_stopping".
      stopped_at: the step training stopped at, or None.
      best_step, best_value: the evaluation with the best selected dev metric so far (None
        before the first, or when nothing is selected).
      evals_since_best: evaluations since the best one (for patience).
    """

    train_loss: list = field(default_factory=list)
    eval: list = field(default_factory=list)
    monitor: list = field(default_factory=list)
    stopped: str | None = None
    stopped_at: int | None = None
    best_step: int | None = None
    best_value: float | None = None
    evals_since_best: int = 0

    @property
    def diverged_at(self) -> int | None:
        """The step whose chunk had the first NaN/Inf loss, or None."""
        return self.stopped_at if self.stopped == "diverged" else None

    def improved(self, step: int, value: float, minimize: bool) -> bool:
        """Records the selected metric's ``value`` at ``step``; True when it is the best so
        far. A NaN never improves."""
        previous = self.best_value
        better = math.isfinite(value) and (
            previous is None or (value < previous if minimize else value > previous))
        if better:
            self.best_step, self.best_value, self.evals_since_best = step, value, 0
        else:
            self.evals_since_best += 1
        return better

    def as_dict(self) -> dict[str, Any]:
        """The fields and ``diverged_at``, for JSON (checkpoints, report.json, summary.json)."""
        return {**dataclasses.asdict(self), "diverged_at": self.diverged_at}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "History":
        """The history of ``as_dict``, or of the records of jaxdiag before this type (the
        main job's ``diverged_at``, ``jaxdiag train``'s ``stopped`` without a step)."""
        known = {f.name for f in dataclasses.fields(cls)}
        history = cls(**{k: v for k, v in values.items() if k in known})
        if history.stopped is None and values.get("diverged_at") is not None:
            history.stopped, history.stopped_at = "diverged", values["diverged_at"]
        if history.stopped is not None and history.stopped_at is None and history.train_loss:
            history.stopped_at = history.train_loss[-1][0]
        return history
