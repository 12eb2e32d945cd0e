"""Streaming metrics shaped like optax transforms: ``Metric(init, update, merge, compute)``.

A state is a pytree of sums, so ``merge`` is addition: states from several batches, devices
(``jax.lax.psum`` of the state) or hosts combine exactly, and ``jax.vmap`` over ``update``
keeps one state per member of a population. Every function is pure and jit-compatible.

Curve metrics stream as score histograms (binned; see ``jaxdiag.metrics.ranking`` for the
error bound of T thresholds).
"""

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from jaxdiag.kernels import average_precision as curve_average_precision
from jaxdiag.kernels import binned_curve, confusion_matrix, levenshtein, score_histogram
from jaxdiag.kernels import roc_auc as curve_roc_auc

from .calibration import calibration_sums, ece_from_sums, table_from_sums
from .classification import nan_average, safe_divide


class Metric(NamedTuple):
    """A streaming metric.

    Attributes:
      init: ``() -> state``.
      update: ``(state, y_true, y_pred, sample_weight=None) -> state`` for one batch.
      merge: ``(state, state) -> state``; states are sums, so this is addition.
      compute: ``state -> value``.
    """

    init: Callable[[], Any]
    update: Callable[..., Any]
    merge: Callable[[Any, Any], Any]
    compute: Callable[[Any], Any]


def _add(a, b):
    return jax.tree.map(jnp.add, a, b)


def _float():
    return jnp.result_type(float)


def _weights(sample_weight, n):
    return jnp.ones(n, _float()) if sample_weight is None else sample_weight.astype(_float())


def _from_sums(zeros: Callable[[], Any], batch_sums: Callable, compute: Callable) -> Metric:
    """A metric whose state is the running total of ``batch_sums(y_true, y_pred, weight)``."""

    def update(state, y_true, y_pred, sample_weight=None):
        return _add(state, batch_sums(y_true, y_pred, sample_weight))

    return Metric(zeros, update, _add, compute)


def accuracy() -> Metric:
    """Weighted accuracy of labels, (n,) ints or (n, L) indicators (subset accuracy)."""

    def sums(y_true, y_pred, sample_weight):
        right = y_true == y_pred
        right = right.reshape(right.shape[0], -1).all(axis=1)
        weight = _weights(sample_weight, right.shape[0])
        return jnp.stack([(weight * right).sum(), weight.sum()])

    return _from_sums(lambda: jnp.zeros(2, _float()), sums, lambda s: s[0] / s[1])


def mean() -> Metric:
    """Weighted mean of ``y_pred`` (a per-example loss, say); ``y_true`` is ignored."""

    def sums(y_true, y_pred, sample_weight):
        weight = _weights(sample_weight, y_pred.shape[0])
        return jnp.stack([(weight * y_pred).sum(), weight.sum()])

    return _from_sums(lambda: jnp.zeros(2, _float()), sums, lambda s: s[0] / s[1])


def confusion(num_classes: int) -> Metric:
    """The (C, C) confusion matrix of integer labels in [0, C); compute returns it."""

    def sums(y_true, y_pred, sample_weight):
        return confusion_matrix(y_true, y_pred, num_classes, _weights(sample_weight,
                                                                        y_true.shape[0]))

    return _from_sums(lambda: jnp.zeros((num_classes, num_classes), _float()), sums,
                      lambda s: s)


def precision_recall_fscore(num_classes: int, average: str | None = "macro", beta: float = 1.0,
                            zero_division: float = 0.0) -> Metric:
    """Precision, recall and F-beta from a streamed confusion matrix, labels in [0, C).

    ``average`` is None, "micro", "macro" or "weighted" (as scikit-learn with
    ``labels=range(C)``); compute returns ``(precision, recall, fbeta)``.
    """
    if average not in (None, "micro", "macro", "weighted"):
        raise ValueError(f"average: expected None, 'micro', 'macro' or 'weighted', "
                         f"found {average!r}")
    base = confusion(num_classes)

    def compute(matrix):
        tp, predicted, true = jnp.diag(matrix), matrix.sum(axis=0), matrix.sum(axis=1)
        if average == "micro":
            tp, predicted, true = tp.sum(keepdims=True), predicted.sum(keepdims=True), true.sum(
                keepdims=True)
        precision = safe_divide(tp, predicted, zero_division)
        recall = safe_divide(tp, true, zero_division)
        fscore = safe_divide((1 + beta**2) * tp, beta**2 * true + predicted, zero_division)
        if average is None:
            return precision, recall, fscore
        weights = true if average == "weighted" else None
        return tuple(nan_average(v, weights) for v in (precision, recall, fscore))

    return base._replace(compute=compute)


def _binned(num_thresholds: int, area: Callable) -> Metric:
    def sums(y_true, y_score, sample_weight):
        return score_histogram(y_score, y_true, num_thresholds, _weights(sample_weight,
                                                                          y_score.shape[0]))

    return _from_sums(lambda: jnp.zeros((2, num_thresholds), _float()), sums,
                      lambda h: area(binned_curve(h)))


def average_precision(num_thresholds: int = 200) -> Metric:
    """Binned average precision of binary labels against scores in [0, 1]."""
    return _binned(num_thresholds, curve_average_precision)


def roc_auc(num_thresholds: int = 200) -> Metric:
    """Binned ROC AUC of binary labels against scores in [0, 1]."""
    return _binned(num_thresholds, curve_roc_auc)


def calibration(num_bins: int = 15) -> Metric:
    """Top-label calibration of (n,) labels in [0, C) against (n, C) probabilities.

    compute returns ``(expected_calibration_error, ReliabilityTable)``.
    """

    def sums(y_true, y_prob, sample_weight):
        correct = jnp.argmax(y_prob, axis=1) == y_true
        return calibration_sums(correct, y_prob.max(axis=1), num_bins, sample_weight)

    return _from_sums(lambda: jnp.zeros((3, num_bins), _float()), sums,
                      lambda s: (ece_from_sums(s), table_from_sums(s)))


def error_rate() -> Metric:
    """Corpus edit error rate (WER on word ids, CER on character ids).

    ``update(state, (ref_ids, ref_lengths), (hyp_ids, hyp_lengths))`` takes padded int arrays
    of shapes (N, Lr), (N,), (N, Lh), (N,); compute returns edits / reference tokens.
    """

    def sums(reference, hypothesis, sample_weight):
        edits = levenshtein(reference[0], reference[1], hypothesis[0], hypothesis[1])
        weight = _weights(sample_weight, edits.shape[0])
        return jnp.stack([(weight * edits).sum(), (weight * reference[1]).sum()])

    return _from_sums(lambda: jnp.zeros(2, _float()), sums, lambda s: s[0] / s[1])


__all__ = [
    "Metric",
    "accuracy",
    "average_precision",
    "calibration",
    "confusion",
    "error_rate",
    "mean",
    "precision_recall_fscore",
    "roc_auc",
]
