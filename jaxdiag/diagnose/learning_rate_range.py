"""A learning-rate range test as one population: K rates x S seeds of the user's model at once.

Goodfellow et al. (11.4.1): if there is time to tune only one hyperparameter, tune the learning
rate; Full Stack Deep Learning: models are most sensitive to it. The usual finder (Smith 2017;
fastai, Lightning) trains one model while the rate grows each step and reads the loss against
the rate, so each rate is seen for one step, from weights shaped by all the smaller rates, and
for one seed. Here every rate trains its own members from scratch for a short budget, S seeds
each, all in one compiled program: the pick is the rate whose final loss is lowest on average
over seeds plus its spread (a rate that is good for one seed and diverges for another is not
picked). The loss is the dev loss by default, what the researcher wants low after training;
``criterion="train_loss"`` reads the training loss, as the ramp finders do.
"""

from typing import NamedTuple

import numpy as np

from jaxdiag.checks import require
from jaxdiag.search import Data, Task, train_population

TAIL = 0.1  # the final training loss is the mean minibatch loss of the last 10% of the steps
CRITERIA = ("dev_loss", "train_loss")


class LearningRateRange(NamedTuple):
    """The range test's outcome.

    Attributes:
      learning_rates: float (K,): the rates tried, log-spaced, increasing.
      final_loss: float (K, S): each member's mean training loss over the last 10% of its
        steps; inf where it diverged (a non-finite loss).
      dev_loss, dev_error: float (K, S): each member's dev loss and error at the end (inf and
        NaN where it diverged).
      score: float (K,): mean over seeds of the criterion's loss plus its standard deviation
        (inf when any seed diverged).
      pick: the rate of the lowest score.
      steps: each member's training steps.
      criterion: "dev_loss" or "train_loss" (``final_loss``), the loss the score reads.
    """

    learning_rates: np.ndarray
    final_loss: np.ndarray
    dev_loss: np.ndarray
    dev_error: np.ndarray
    score: np.ndarray
    pick: float
    steps: int
    criterion: str

    def as_dict(self) -> dict:
        def finite(values: np.ndarray) -> list:
            return np.where(np.isfinite(values), values, None).tolist()

        return {"learning_rates": self.learning_rates.tolist(),
                "final_loss": finite(self.final_loss), "dev_loss": finite(self.dev_loss),
                "dev_error": finite(self.dev_error), "score": finite(self.score),
                "pick": self.pick, "steps": self.steps, "criterion": self.criterion}


def learning_rate_range(
    task: Task,
    data: Data,
    *,
    low: float = 1e-5,
    high: float = 1.0,
    rates: int = 12,
    seeds: int = 3,
    steps: int = 300,
    batch_size: int = 64,
    weight_decay: float = 0.0,
    seed: int = 0,
    criterion: str = "dev_loss",
    progress: str | None = None,
) -> LearningRateRange:
    """Trains ``rates`` log-spaced learning rates in [low, high] x ``seeds`` seeds of ``task``
    as one population for ``steps`` steps and picks the rate that is best and robust.

    Args:
      task: the members' model and optimizer (``ModelTask`` of the user's model, ``mlp_task``).
      data: training and dev arrays (normalized inputs, int labels).
      low, high: the range, 0 < low < high.
      rates, seeds: K >= 2 rates, S >= 1 seeds each; member (k, s) is seeded ``seed * 1000 +
        k * seeds + s``.
      steps, batch_size, weight_decay: every member's short training.
      criterion: the loss the pick minimizes, one of ``CRITERIA``.
      progress: the progress bar's label; no bar when None.

    Returns:
      LearningRateRange.

    Raises:
      ValueError: a bad range, count or budget, naming the argument.
    """
    require(0 < low < high, "low, high", "0 < low < high", (low, high))
    require(rates >= 2, "rates", "an integer >= 2", rates)
    require(seeds >= 1, "seeds", "an integer >= 1", seeds)
    require(steps >= 10, "steps", "an integer >= 10", steps)
    require(criterion in CRITERIA, "criterion", f"one of {CRITERIA}", criterion)
    learning_rates = np.geomspace(low, high, rates)
    members = rates * seeds
    result = train_population(
        task, {"learning_rate": np.repeat(learning_rates, seeds),
               "weight_decay": np.full(members, weight_decay)},
        seed * 1000 + np.arange(members), data, steps=steps, batch_size=batch_size,
        progress=progress)
    tail = result.train_loss[:, -max(1, round(TAIL * steps)):].astype(np.float64)
    diverged = (result.failed_at >= 0) | ~np.all(np.isfinite(tail), axis=1)
    final_loss = np.where(diverged, np.inf, np.nanmean(np.where(diverged[:, None], 0, tail),
                                                       axis=1)).reshape(rates, seeds)
    dev_loss = np.asarray(result.dev_loss, np.float64)
    dev_loss = np.where(diverged | ~np.isfinite(dev_loss), np.inf, dev_loss).reshape(rates, seeds)
    dev_error = np.where(diverged, np.nan, result.dev_error).reshape(rates, seeds)
    read = dev_loss if criterion == "dev_loss" else final_loss
    finite = np.all(np.isfinite(read), axis=1)
    safe = np.where(np.isfinite(read), read, 0.0)
    spread = safe.std(axis=1, ddof=1) if seeds > 1 else np.zeros(rates)
    score = np.where(finite, safe.mean(axis=1) + spread, np.inf)
    pick = float(learning_rates[int(np.argmin(score))]) if np.any(finite) else float("nan")
    return LearningRateRange(learning_rates, final_loss, dev_loss, dev_error, score, pick, steps,
                             criterion)
