"""Successive halving: which members of a population survive a rung.

Reference: Jamieson and Talwalkar, "Non-stochastic best arm identification and
hyperparameter optimization", AISTATS 2016; Li et al., "Hyperband", JMLR 2018.
"""

import math

import numpy as np


def survivors(error: np.ndarray, loss: np.ndarray, keep_fraction: float) -> np.ndarray:
    """Boolean mask (K,) of the ``ceil(keep_fraction * running)`` best members.

    Members rank by error, then loss (lower is better); failed members (NaN error) never
    survive, and ties keep the earlier member. At least one member survives while any runs.

    Args:
      error, loss: float (K,) dev metrics at the rung, NaN for failed members.
      keep_fraction: in (0, 1].
    """
    error, loss = np.asarray(error, np.float64), np.asarray(loss, np.float64)
    running = np.isfinite(error) & np.isfinite(loss)
    keep = np.zeros(len(error), bool)
    count = math.ceil(keep_fraction * running.sum())
    order = np.lexsort((np.arange(len(error)), np.where(running, loss, np.inf),
                        np.where(running, error, np.inf)))
    keep[order[:count]] = True
    return keep & running
