"""Overfitting read from the evaluation curves: dev loss rising while the training loss falls.

Goodfellow et al. (2016), section 7.8: when the validation loss turns up while the training
loss keeps falling, the model is fitting the training set's noise; early stopping returns the
parameters of the lowest validation loss, with its step as the training length to use.
"""

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

RISE_FRACTION = 0.05  # the last dev loss sits this fraction above the lowest one ...
MIN_RISE = 0.01  # ... and at least this many nats above it


class Overfitting(NamedTuple):
    """Dev loss that turned up while the training loss fell.

    Attributes:
      best_step: the evaluation step with the lowest dev loss.
      best_dev_loss, final_dev_loss: the dev loss there and at the last evaluation.
      train_loss_at_best, final_train_loss: the training loss there and at the end.
      message: the finding in words, with the early-stopping recommendation.
    """

    best_step: int
    best_dev_loss: float
    final_dev_loss: float
    train_loss_at_best: float
    final_train_loss: float
    message: str

    def as_dict(self) -> dict:
        return self._asdict()


def overfitting_from_curves(steps: Sequence[int], train_loss: Sequence[float],
                            dev_loss: Sequence[float]) -> Overfitting | None:
    """The overfitting signature of an evaluation history, or None.

    Args:
      steps: int (E,): the evaluation steps, increasing.
      train_loss: float (E,): the training loss at each (on the whole training split, or the
        minibatch loss logged nearest to it).
      dev_loss: float (E,): the dev loss at each.

    Returns:
      An ``Overfitting`` when the last dev loss exceeds the lowest by ``RISE_FRACTION`` of it
      (and ``MIN_RISE`` nats) while the training loss at the end is below its value at that
      lowest point; None otherwise (and for fewer than three evaluations).

    Raises:
      ValueError: the three sequences differ in length.
    """
    steps, train, dev = (np.asarray(v, np.float64) for v in (steps, train_loss, dev_loss))
    if not len(steps) == len(train) == len(dev):
        raise ValueError(f"steps, train_loss, dev_loss: expected equal lengths, found "
                         f"{len(steps)}, {len(train)}, {len(dev)}.")
    finite = np.isfinite(dev) & np.isfinite(train)
    if finite.sum() < 3:
        return None
    steps, train, dev = steps[finite], train[finite], dev[finite]
    best = int(np.argmin(dev))
    rise = dev[-1] - dev[best]
    if best == len(dev) - 1 or rise < max(MIN_RISE, RISE_FRACTION * dev[best]) \
            or train[-1] >= train[best]:
        return None
    step = int(steps[best])
    message = (f"dev loss rose from {dev[best]:.3g} at step {step} to {dev[-1]:.3g} at step "
               f"{int(steps[-1])} while the training loss fell from {train[best]:.3g} to "
               f"{train[-1]:.3g}: stop early, at step {step} (the weights of the best dev "
               "loss are in checkpoints/best; train.patience stops there)")
    return Overfitting(step, float(dev[best]), float(dev[-1]), float(train[best]),
                       float(train[-1]), message)
