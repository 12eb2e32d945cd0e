"""Suspected label errors by confident learning (Northcutt, Jiang and Chuang, JAIR 2021).

Out-of-sample probabilities come from k-fold cross-validation, the folds trained at once as
members of one vmap population (each member masks out its own fold). An example is suspected
when some other class j is predicted with at least class j's threshold (the mean probability of
j over the examples labelled j) and more confidently than any other class that reaches its
threshold: the off-diagonal of the confident joint.
"""

from typing import NamedTuple

import jax
import numpy as np

from jaxdiag.diagnose.subset_models import subset_task, train_on_subsets
from jaxdiag.search import Task


class LabelErrors(NamedTuple):
    """Suspected label errors.

    Attributes:
      indices: int (m,): the suspected examples, least self-confident first.
      given: int (m,): their labels.
      suggested: int (m,): the class confident learning believes instead.
      self_confidence: float (m,): the probability the model gives the given label.
      thresholds: float (C,): per-class thresholds t_j.
      confident_joint: int (C, C): [given, believed] counts of examples that reach a threshold.
    """

    indices: np.ndarray
    given: np.ndarray
    suggested: np.ndarray
    self_confidence: np.ndarray
    thresholds: np.ndarray
    confident_joint: np.ndarray

    def as_dict(self, top: int = 20) -> dict:
        return {"count": len(self.indices),
                "suspects": [{"index": int(i), "given": int(g), "suggested": int(s),
                              "self_confidence": float(c)}
                             for i, g, s, c in zip(self.indices[:top], self.given[:top],
                                                   self.suggested[:top],
                                                   self.self_confidence[:top], strict=True)],
                "thresholds": self.thresholds.tolist(),
                "confident_joint": self.confident_joint.tolist()}


def find_label_errors(y: np.ndarray, probabilities: np.ndarray) -> LabelErrors:
    """Confident learning's off-diagonal examples, ranked by self-confidence.

    Args:
      y: int (n,): the given labels, in [0, C).
      probabilities: float (n, C): out-of-sample predicted probabilities (rows sum to 1).

    Returns:
      LabelErrors.

    Raises:
      ValueError: shapes that do not match, labels out of range, or probabilities that are not
        finite and non-negative.
    """
    y, p = np.asarray(y), np.asarray(probabilities, np.float64)
    if p.ndim != 2 or y.shape != (len(p),):
        raise ValueError(f"y, probabilities: expected shapes (n,) and (n, C), found {y.shape} "
                         f"and {p.shape}.")
    num_classes = p.shape[1]
    if not np.issubdtype(y.dtype, np.integer) or (len(y) and (y.min() < 0
                                                               or y.max() >= num_classes)):
        raise ValueError(f"y: expected integer labels in [0, {num_classes}), found "
                         f"{y.dtype} {y.min() if len(y) else ''}..{y.max() if len(y) else ''}.")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError("probabilities: expected finite, non-negative values.")
    counts = np.bincount(y, minlength=num_classes)
    sums = np.zeros((num_classes, num_classes))
    np.add.at(sums, y, p)
    thresholds = np.where(counts > 0, np.diag(sums) / np.maximum(counts, 1), np.inf)
    above = p >= thresholds
    reached = above.any(axis=1)
    believed = np.argmax(np.where(above, p, -1.0), axis=1)
    joint = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(joint, (y[reached], believed[reached]), 1)
    suspects = np.flatnonzero(reached & (believed != y))
    confidence = p[suspects, y[suspects]]
    order = np.argsort(confidence, kind="stable")
    suspects = suspects[order]
    return LabelErrors(suspects, y[suspects], believed[suspects], confidence[order], thresholds,
                       joint)


def cross_validated_probabilities(
    x: np.ndarray,
    y: np.ndarray,
    num_classes: int,
    *,
    folds: int = 5,
    steps: int = 1000,
    batch_size: int = 64,
    width: int = 128,
    depth: int = 2,
    learning_rate: float = 1e-3,
    weight_decay: float = 1e-4,
    seed: int = 0,
    task: Task | None = None,
    progress: str | None = None,
) -> np.ndarray:
    """Out-of-sample probabilities of every example: a model per fold, trained as one population.

    Args:
      x: float (n, ...) normalized inputs; y: int (n,) labels in [0, num_classes).
      folds: k of k-fold cross-validation, >= 2; fold membership is a seeded permutation.
      steps, batch_size, learning_rate, weight_decay: each fold's training.
      width, depth: the default model's (an AdamW MLP) when ``task`` is None.
      seed: the folds, the initializations and the minibatches.
      task: the folds' model (e.g. ``ModelTask`` of the user's model).
      progress: the progress bar's label; no bar when None.

    Returns:
      float32 (n, num_classes): each example's probabilities from the member that did not
      train on it.
    """
    n = len(y)
    if not 2 <= folds <= n:
        raise ValueError(f"folds: expected 2 <= folds <= {n} examples, found {folds}.")
    fold = np.random.default_rng(seed).permutation(n) % folds
    masks = fold[None, :] != np.arange(folds)[:, None]
    logits, _ = train_on_subsets(x, y, masks, subset_task(task, x, num_classes, width, depth),
                                 steps=steps, batch_size=batch_size,
                                 learning_rate=learning_rate, weight_decay=weight_decay,
                                 seed=seed, progress=progress)  # (folds, n, C)
    probabilities = np.asarray(jax.nn.softmax(logits, axis=-1))
    return probabilities[fold, np.arange(n)]
