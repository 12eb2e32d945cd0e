"""A remedy's measured effect: the model with and without it, trained as one population.

The remedy's weight is a traced hyperparameter (``jaxdiag.search.RemedyTask``), so weight 0
(the model as it is) and every weight tried train together, each over several seeds that draw
the same minibatches at every weight. The weight is picked on the dev set (mean over seeds);
each split's error with and without it, and the test error's paired change with its t
interval over the seeds, say whether it helped.
"""

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from jax.scipy.special import betainc

from jaxdiag.checks import require
from jaxdiag.search import Data, RemedyTask, member_errors, train_population

CONFIDENCE = 0.95


class RemedyEffect(NamedTuple):
    """What a remedy did.

    Attributes:
      remedy: its name; weights: the weights tried (0, the model without it, first).
      seeds: seeds per weight.
      errors: {split: float (weights, seeds)} errors of every member.
      picked: the weight of the lowest mean dev error among the nonzero ones.
      before, after: {split: mean error over the seeds} at weight 0 and at ``picked``.
      test_change: the mean paired change of the test error (after - before), with its
        ``CONFIDENCE`` t interval ``test_interval`` over the seeds (dev when there is no test).
      significant: the interval excludes 0.
    """

    remedy: str
    weights: tuple[float, ...]
    seeds: int
    errors: dict[str, np.ndarray]
    picked: float
    before: dict[str, float]
    after: dict[str, float]
    test_change: float
    test_interval: tuple[float, float]
    significant: bool

    @property
    def message(self) -> str:
        verdict = ("lowers" if self.test_change < 0 else "raises") if self.significant else \
            "does not significantly change"
        scored = "test" if "test" in self.before else "dev"
        low, high = self.test_interval
        return (f"{self.remedy} (weight {self.picked:g}, picked on dev) {verdict} the {scored} "
                f"error: {self.before[scored]:.2%} -> {self.after[scored]:.2%} "
                f"({100 * self.test_change:+.2f} points, {CONFIDENCE:.0%} interval "
                f"[{100 * low:+.2f}, {100 * high:+.2f}] over {self.seeds} seeds)")

    def as_dict(self) -> dict:
        return {**self._asdict(), "weights": list(self.weights),
                "errors": {k: v.tolist() for k, v in self.errors.items()},
                "test_interval": list(self.test_interval), "message": self.message}


def remedy_effect(task: RemedyTask, data: Data, splits: dict[str, tuple[np.ndarray, np.ndarray]],
                  *, weights: Sequence[float], seeds: int = 3, steps: int,
                  batch_size: int, learning_rate: float, weight_decay: float = 0.0,
                  seed: int = 0, progress: str | None = None) -> RemedyEffect:
    """Trains ``task`` at weight 0 and at each of ``weights``, ``seeds`` members each, as one
    population, and scores every member on every split.

    Args:
      task: the model with its remedy.
      data: the training split and dev (and, for an adaptation, the target's unlabelled inputs).
      splits: {name: (x, y)} scored; "dev" picks the weight, "test" (or else "dev") is compared.
      weights: the nonzero weights to try.
      seeds: members per weight (>= 2); member s of every weight is seeded ``seed * 1000 + s``.
      steps, batch_size, learning_rate, weight_decay: every member's training.
      progress: the progress bar's label; no bar when None.

    Returns:
      RemedyEffect.
    """
    weights = tuple(float(w) for w in weights)
    require(len(weights) > 0 and all(w > 0 for w in weights), "weights",
            "at least one weight > 0", weights)
    require(seeds >= 2, "seeds", "an integer >= 2 (the interval needs a spread)", seeds)
    require("dev" in splits, "splits", "a 'dev' split to pick the weight on", sorted(splits))
    tried = (0.0, *weights)
    count = len(tried) * seeds
    hparams = {"learning_rate": np.full(count, learning_rate),
               "weight_decay": np.full(count, weight_decay),
               "remedy_weight": np.repeat(tried, seeds)}
    result = train_population(task, hparams, seed * 1000 + np.tile(np.arange(seeds), len(tried)),
                              data, steps=steps, batch_size=batch_size, progress=progress)
    errors = {name: e.reshape(len(tried), seeds)
              for name, e in member_errors(task, result, splits).items()}
    best = 1 + int(np.argmin(errors["dev"][1:].mean(axis=1)))
    scored = "test" if "test" in errors else "dev"
    change, low, high = paired_t_interval(errors[scored][best] - errors[scored][0])
    return RemedyEffect(task.remedy, tried, seeds, errors, tried[best],
                        {k: float(v[0].mean()) for k, v in errors.items()},
                        {k: float(v[best].mean()) for k, v in errors.items()},
                        change, (low, high), not low <= 0 <= high)


def paired_t_interval(differences: np.ndarray, confidence: float = CONFIDENCE
                      ) -> tuple[float, float, float]:
    """(mean, low, high): the mean of paired ``differences`` (n >= 2, one per seed) and its
    Student t interval at ``confidence``."""
    d = np.asarray(differences, np.float64)
    require(d.ndim == 1 and len(d) >= 2, "differences", "a 1-D array of at least 2", d.shape)
    half = t_quantile((1 + confidence) / 2, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return float(d.mean()), float(d.mean() - half), float(d.mean() + half)


def t_quantile(probability: float, dof: int) -> float:
    """Student's t quantile of ``probability`` in (0.5, 1) at ``dof`` >= 1 degrees of freedom,
    by bisection on its CDF 1 - I_{dof / (dof + t^2)}(dof / 2, 1 / 2) / 2."""
    require(0.5 < probability < 1, "probability", "a value in (0.5, 1)", probability)
    require(dof >= 1, "dof", "an integer >= 1", dof)

    def tail(t: float) -> float:
        return 0.5 * float(betainc(dof / 2, 0.5, dof / (dof + t * t)))

    low, high = 0.0, 1.0
    while tail(high) > 1 - probability:
        high *= 2
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if tail(mid) > 1 - probability else (low, mid)
    return (low + high) / 2
