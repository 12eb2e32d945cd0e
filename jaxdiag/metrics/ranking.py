"""Ranking metrics: PR and ROC curves and their areas, exact or binned.

Exact curves sort the scores once (``jaxdiag.kernels.exact_curve``) and break ties as
scikit-learn does; exact areas on the CPU skip the curve and sum over ranks
(``jaxdiag.kernels.exact_average_precision``, ``exact_roc_auc``). ``num_thresholds=T``
switches to the binned curve: one histogram pass over scores in [0, 1] at the thresholds
k / (T - 1). A binned area equals the exact area of the scores rounded down to that grid, so
its error is at most the share of (positive, negative) pairs that fall in one bin: for ROC
AUC, |binned - exact| <= 1/2 * sum_k P_k N_k / (P N) (P_k, N_k the positives and negatives in
bin k), which is below 1/(T - 1) for scores spread over [0, 1] and 1/(2 (T - 1)) for uniform
ones.

Under ``jit``/``vmap`` nothing is checked and: NaN scores make the area NaN; ROC AUC with one
class is NaN; curves come back with one point per example (tied scores repeat their group's
point) instead of one per distinct threshold.
"""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from jaxdiag.kernels import (
    BinaryCurve,
    at_group_end,
    binned_curve,
    exact_average_precision,
    exact_curve,
    exact_roc_auc,
    score_histogram,
)
from jaxdiag.kernels import average_precision as curve_average_precision
from jaxdiag.kernels import roc_auc as curve_roc_auc

from ._inputs import (
    as_array,
    binary_target,
    check_finite,
    check_length,
    column_index,
    column_labels,
    device_float,
    is_concrete,
    order_preserving,
    present_labels,
    sample_weights,
)
from .undefined import warn_undefined

AVERAGES = (None, "micro", "macro", "weighted", "samples")
# scikit-learn's words for the undefined cases
_ONE_CLASS = "Only one class is present in y_true. ROC AUC score is not defined in that case."
_NO_POSITIVES = "No positive class found in y_true, recall is set to one for all thresholds."


def _scores(y_score, ndim=(1,), num_thresholds=None):
    """Checked scores on the device, and what their values stand for: the exact curves and
    areas read only the order of the scores, so concrete scores that the device dtype would
    reorder or tie are replaced by their ranks (``order_preserving``); binned curves read the
    values themselves.

    Returns:
      (jnp scores, ``restore``: device values back to the input's own, or None).
    """
    y_score = as_array("y_score", y_score, ndim=ndim, numeric=True)
    check_finite("y_score", y_score)
    if num_thresholds is not None:
        return device_float("y_score", y_score), None
    return order_preserving("y_score", y_score)


def _check_thresholds(num_thresholds, y_score) -> None:
    if num_thresholds is None:
        return
    if not isinstance(num_thresholds, int) or num_thresholds < 2:
        raise ValueError(f"num_thresholds: expected an int >= 2 or None, found {num_thresholds!r}")
    if is_concrete(y_score):
        low, high = float(jnp.min(y_score)), float(jnp.max(y_score))
        if low < 0 or high > 1:
            raise ValueError(f"y_score: binned curves (num_thresholds={num_thresholds}) need "
                             f"scores in [0, 1], found values in [{low}, {high}]")


def _curve(y_true, y_score, weight, num_thresholds) -> BinaryCurve:
    """Curve of bool ``y_true`` against 1-D ``y_score``; both jnp arrays."""
    if num_thresholds is None:
        return exact_curve(y_score, y_true, weight)
    return binned_curve(score_histogram(y_score, y_true, num_thresholds, weight))


def _nan_if_nan_scores(value, y_score):
    return jnp.where(jnp.isnan(y_score).any(), jnp.nan, value)


def _binary_inputs(y_true, y_score, sample_weight, pos_label, num_thresholds,
                   present_pos_label: bool = False):
    """Checks around scores already checked by ``_scores``; returns jnp (y_true, scores, w)."""
    y_true = as_array("y_true", y_true)
    check_length(y_true.shape[0], y_score=y_score)
    _check_thresholds(num_thresholds, y_score)
    return (jnp.asarray(binary_target("y_true", y_true, pos_label, present_pos_label)),
            y_score, sample_weights(sample_weight, y_true.shape[0]))


def _indicator(y_true, y_score, labels):
    """Multiclass labels (n,) as one-hot (n, C) against the C score columns."""
    num_classes = y_score.shape[1]
    if labels is None:
        labels = present_labels(y_true) if is_concrete(y_true) else np.arange(num_classes)
        if len(labels) != num_classes:
            raise ValueError(f"y_true: expected {num_classes} classes (one per y_score "
                             f"column), found {len(labels)}: {labels[:10].tolist()}")
    index = column_index(y_true, column_labels(labels, num_classes))
    return index[:, None] == jnp.arange(num_classes)


def _per_column(score_fn, y_true, y_score, weight, average):
    """scikit-learn's ``_average_binary_score`` over indicator columns, vmapped."""
    if average not in AVERAGES:
        raise ValueError(f"average: expected one of {AVERAGES}, found {average!r}")
    if average == "micro":
        repeated = None if weight is None else jnp.repeat(weight, y_true.shape[1])
        return score_fn(y_true.ravel(), y_score.ravel(), repeated)
    if average == "samples":
        scores = jax.vmap(lambda t, s: score_fn(t, s, None))(y_true, y_score)
        average_weight = weight
    else:
        scores = jax.vmap(lambda t, s: score_fn(t, s, weight), in_axes=1)(y_true, y_score)
        average_weight = None
        if average == "weighted":
            w = 1 if weight is None else weight[:, None]
            average_weight = (y_true * w).sum(axis=0)
    if average is None:
        return scores
    if average_weight is None:
        return scores.mean()
    scores = jnp.where(average_weight == 0, 0, scores)
    total = average_weight.sum()
    return jnp.where(total > 0, (scores * average_weight).sum() / jnp.where(total > 0, total, 1),
                     0.0)


@partial(jax.jit, static_argnums=3)
def _ap(y_true, y_score, weight, num_thresholds):
    if num_thresholds is None:
        area = exact_average_precision(y_score, y_true, weight)
    else:
        area = curve_average_precision(_curve(y_true, y_score, weight, num_thresholds))
    return _nan_if_nan_scores(area, y_score)


@partial(jax.jit, static_argnums=3)
def _auc(y_true, y_score, weight, num_thresholds):
    if num_thresholds is None:
        area = exact_roc_auc(y_score, y_true, weight)
    else:
        area = curve_roc_auc(_curve(y_true, y_score, weight, num_thresholds))
    return _nan_if_nan_scores(area, y_score)


def average_precision_score(y_true, y_score, *, average: str | None = "macro", pos_label=1,
                            sample_weight=None, num_thresholds: int | None = None) -> jax.Array:
    """Area under the step-wise precision-recall curve, sum_k (R_k - R_{k-1}) P_k.

    As ``sklearn.metrics.average_precision_score``.

    Args:
      y_true: binary labels, shape (n,); multiclass labels, shape (n,), with y_score of shape
        (n, C) (one-vs-rest); or 0/1 indicators, shape (n, C).
      y_score: float array, shape (n,) or (n, C).
      average: for several columns: None (per column), "micro", "macro", "weighted", "samples".
      pos_label: the positive class of a binary target.
      sample_weight: optional float array, shape (n,).
      num_thresholds: None for the exact curve, or T for the binned curve (scores in [0, 1]).

    Returns:
      0-d float array (shape (C,) for ``average=None``); 0.0 when there are no positives.
    """
    y_score, _ = _scores(y_score, (1, 2), num_thresholds)
    if y_score.ndim == 1:
        y_true, y_score, weight = _binary_inputs(y_true, y_score, sample_weight, pos_label,
                                                 num_thresholds, present_pos_label=True)
        if is_concrete(y_true) and not np.asarray(y_true).any():
            warn_undefined(_NO_POSITIVES, UserWarning)  # sklearn's category here
        return _ap(y_true, y_score, weight, num_thresholds)
    if pos_label != 1:
        raise ValueError(f"pos_label: expected 1 (fixed for multiclass and multilabel y_true, "
                         f"as in sklearn), found {pos_label!r}")
    y_true, weight = _multi_inputs(y_true, y_score, sample_weight, None, num_thresholds)
    if _some_slice(y_true, average, lambda positives, _: positives == 0):
        warn_undefined(_NO_POSITIVES, UserWarning)  # sklearn's category here
    return _per_column(lambda t, s, w: _ap(t, s, w, num_thresholds), y_true, y_score, weight,
                       average)


def _multi_inputs(y_true, y_score, sample_weight, labels, num_thresholds):
    y_true = as_array("y_true", y_true, ndim=(1, 2))
    check_length(y_true.shape[0], y_score=y_score)
    _check_thresholds(num_thresholds, y_score)
    weight = sample_weights(sample_weight, y_true.shape[0])
    if y_true.ndim == 1:
        return _indicator(y_true, y_score, labels), weight
    if y_true.shape != y_score.shape:
        raise ValueError(f"y_score: expected the shape of y_true {y_true.shape}, "
                         f"found {y_score.shape}")
    if is_concrete(y_true):
        values = present_labels(y_true)
        if not set(values.tolist()) <= {0, 1}:
            raise ValueError(f"y_true: expected 0/1 indicators for a 2-D y_true (multiclass-"
                             f"multioutput targets are not supported, as in sklearn), found "
                             f"values {values[:10].tolist()}")
    return jnp.asarray(y_true).astype(bool), weight


def roc_auc_score(y_true, y_score, *, average: str | None = "macro", sample_weight=None,
                  max_fpr: float | None = None, multi_class: str = "raise", labels=None,
                  num_thresholds: int | None = None) -> jax.Array:
    """Area under the ROC curve, as ``sklearn.metrics.roc_auc_score``.

    Args:
      y_true: binary labels, shape (n,); multiclass labels (n,) with ``multi_class`` "ovr"
        or "ovo"; or 0/1 indicators, shape (n, C).
      y_score: float array, shape (n,) (the positive class score) or (n, C). For multiclass,
        rows are probabilities that sum to 1.
      average: for several columns: None, "micro", "macro", "weighted", "samples"; one-vs-one
        takes "macro" or "weighted" (pairs weighted by their prevalence).
      sample_weight: optional float array, shape (n,) (not with one-vs-one, as sklearn).
      max_fpr: in (0, 1]: the McClish-standardized partial AUC over false-positive rates up
        to ``max_fpr`` (binary and multilabel targets); None or 1: the whole area.
      multi_class: "raise" (multiclass is an error, scikit-learn's default), "ovr" (each class
        against the rest) or "ovo" (Hand & Till: each pair of classes).
      labels: the class of each y_score column for multiclass (static under jit): unique and
        increasing, as sklearn requires.
      num_thresholds: None for the exact curve, or T for the binned curve (scores in [0, 1]).

    Returns:
      0-d float array (shape (C,) for ``average=None``); NaN for a binary target with one
      class present (with an ``UndefinedMetricWarning`` when concrete, as sklearn).
    """
    if max_fpr is not None and not 0 < max_fpr <= 1:
        raise ValueError(f"max_fpr: expected a value in (0, 1], found {max_fpr!r}")
    partial_area = None if max_fpr is None or max_fpr == 1 else float(max_fpr)

    def area(t, s, w):
        if partial_area is None:
            return _auc(t, s, w, num_thresholds)
        return _mcclish_auc(t, s, w, num_thresholds, partial_area)

    rows = as_array("y_score", y_score, ndim=(1, 2), numeric=True)
    y_score, _ = _scores(rows, (1, 2), num_thresholds)
    if y_score.ndim == 1:
        y_true, y_score, weight = _binary_inputs(y_true, y_score, sample_weight, None,
                                                 num_thresholds)
        if is_concrete(y_true) and (np.asarray(y_true).all() or not np.asarray(y_true).any()):
            warn_undefined(_ONE_CLASS)
            return jnp.asarray(jnp.nan, jnp.result_type(float))
        return area(y_true, y_score, weight)
    if multi_class not in ("raise", "ovr", "ovo"):
        raise ValueError(f"multi_class: expected 'raise', 'ovr' or 'ovo', found "
                         f"{multi_class!r}")
    y_true_array = as_array("y_true", y_true, ndim=(1, 2))
    if y_true_array.ndim == 1:
        if multi_class == "raise":
            raise ValueError("multi_class: multiclass targets need multi_class='ovr' or "
                             "'ovo', found 'raise'")
        if partial_area is not None:
            raise ValueError(f"max_fpr: expected None (partial AUC is not defined for "
                             f"multiclass targets, as in sklearn), found {max_fpr!r}")
        if multi_class == "ovo" and average is None:
            raise NotImplementedError("average: None is not implemented for "
                                      "multi_class='ovo' (as in sklearn)")
        allowed = ("macro", "weighted") if multi_class == "ovo" else (
            "macro", "weighted", "micro", None)
        if average not in allowed:
            raise ValueError(f"average: expected one of {allowed} for multi_class="
                             f"{multi_class!r}, found {average!r}")
        if multi_class == "ovo" and sample_weight is not None:
            raise ValueError("sample_weight: expected None for multi_class='ovo' (not "
                             "defined one-vs-one, as in sklearn), found weights")
        if is_concrete(rows) and not np.allclose(np.asarray(rows).sum(axis=1), 1):
            raise ValueError("y_score: multiclass ROC AUC needs probabilities whose rows sum "
                             "to 1")
    y_true, weight = _multi_inputs(y_true_array, y_score, sample_weight, labels, num_thresholds)
    if y_true_array.ndim == 1 and multi_class == "ovo":
        return _one_vs_one(y_true, y_score, average, num_thresholds)
    if _some_slice(y_true, average, lambda positives, size: (positives == 0)
                   | (positives == size)):
        warn_undefined(_ONE_CLASS)
    return _per_column(area, y_true, y_score, weight, average)


def _some_slice(y_true, average, undefined) -> bool:
    """Whether ``undefined(positives, size)`` holds for some column (row for "samples", the
    whole array for "micro") of a concrete indicator ``y_true`` (n, C) that ``average``
    scores on its own."""
    if not is_concrete(y_true):
        return False
    y_true = np.asarray(y_true)
    if average == "micro":
        return bool(undefined(y_true.sum(), y_true.size))
    axis = 1 if average == "samples" else 0
    return bool(undefined(y_true.sum(axis=axis), y_true.shape[axis]).any())


def _one_vs_one(y_true, y_score, average: str, num_thresholds):
    """Hand & Till's multiclass AUC: the mean over pairs (a, b) of classes present of the
    AUCs of a against b and b against a, each on the examples of a and b (others weighted
    0), weighted by the pair's prevalence for ``average="weighted"``; one-hot (n, C)
    y_true."""
    classes = (np.flatnonzero(np.asarray(y_true).any(axis=0)) if is_concrete(y_true)
               else np.arange(y_true.shape[1]))  # sklearn pairs the classes present
    pairs = np.array([(a, b) for i, a in enumerate(classes) for b in classes[i + 1:]])

    def pair_score(a, b):
        in_pair = y_true[:, a] | y_true[:, b]
        weight = in_pair.astype(y_score.dtype)
        both = (_auc(y_true[:, a], y_score[:, a], weight, num_thresholds)
                + _auc(y_true[:, b], y_score[:, b], weight, num_thresholds)) / 2
        return both, in_pair.mean()

    scores, prevalence = jax.vmap(pair_score)(jnp.asarray(pairs[:, 0]), jnp.asarray(pairs[:, 1]))
    if average == "weighted":
        return (scores * prevalence).sum() / prevalence.sum()
    return scores.mean()


@partial(jax.jit, static_argnums=3)
def _mcclish_auc(y_true, y_score, weight, num_thresholds, max_fpr):
    """sklearn's partial AUC: the ROC area up to ``max_fpr`` (the curve interpolated there),
    standardized by McClish's formula to 0.5 for chance and 1 for a perfect ranking."""
    _, tps, fps, _ = _padded_points(y_true, y_score, weight, num_thresholds)
    zero = jnp.zeros((1,), tps.dtype)
    tps, fps = jnp.concatenate([zero, tps]), jnp.concatenate([zero, fps])
    fpr, tpr = fps / fps[-1], tps / tps[-1]
    x0, x1, y0, y1 = fpr[:-1], fpr[1:], tpr[:-1], tpr[1:]
    right = jnp.clip(x1, x0, jnp.maximum(x0, max_fpr))  # each segment cut at max_fpr
    width = x1 - x0
    slope = jnp.where(width > 0, (y1 - y0) / jnp.where(width > 0, width, 1), 0)
    area = jnp.sum((right - x0) * (2 * y0 + slope * (right - x0)) / 2)
    low = 0.5 * max_fpr**2
    return _nan_if_nan_scores(0.5 * (1 + (area - low) / (max_fpr - low)), y_score)


@partial(jax.jit, static_argnums=3)
def _padded_points(y_true, y_score, weight, num_thresholds):
    """One point per example (or bin): thresholds, float tps and fps at the group ends."""
    curve = _curve(y_true, y_score, weight, num_thresholds)
    dtype = jnp.result_type(float)
    return (curve.threshold, at_group_end(curve, curve.tps).astype(dtype),
            at_group_end(curve, curve.fps).astype(dtype), curve.is_threshold)


def _curve_points(y_true, y_score, sample_weight, pos_label, num_thresholds, drop):
    """(thresholds, tps, fps): compacted to distinct thresholds when concrete, else padded."""
    y_score, restore = _scores(y_score, num_thresholds=num_thresholds)
    y_true, y_score, weight = _binary_inputs(y_true, y_score, sample_weight, pos_label,
                                             num_thresholds)
    if num_thresholds is None and weight is not None and is_concrete(weight):
        keep = np.asarray(weight) != 0  # scikit-learn drops zero-weight examples first
        y_true, y_score, weight = y_true[keep], y_score[keep], weight[keep]
    thresholds, tps, fps, is_threshold = _padded_points(y_true, y_score, weight,
                                                        num_thresholds)
    if not is_concrete(y_true, y_score, weight) or num_thresholds is not None:
        return thresholds, tps, fps
    keep = np.asarray(is_threshold)
    thresholds, tps, fps = (np.asarray(a)[keep] for a in (thresholds, tps, fps))
    if drop is not None and len(fps) > 2:
        keep = drop(tps, fps)
        thresholds, tps, fps = thresholds[keep], tps[keep], fps[keep]
    if restore is not None:  # back to the input's own scores, in its own dtype
        return restore(thresholds), jnp.asarray(tps), jnp.asarray(fps)
    return jnp.asarray(thresholds), jnp.asarray(tps), jnp.asarray(fps)


def _pr_keep(tps, fps):
    return np.concatenate([[True], (np.diff(tps[:-1]) != 0) | (np.diff(tps[1:]) != 0), [True]])


def _roc_keep(tps, fps):
    return np.r_[True, (np.diff(fps, 2) != 0) | (np.diff(tps, 2) != 0), True]


def precision_recall_curve(y_true, y_score, *, pos_label=None, sample_weight=None,
                           drop_intermediate: bool = False,
                           num_thresholds: int | None = None):
    """Precision and recall at every threshold, as ``sklearn.metrics.precision_recall_curve``.

    Args:
      y_true: binary labels, shape (n,).
      y_score: float array, shape (n,).
      pos_label: the positive class; default 1 for labels in {0, 1} or {-1, 1}.
      sample_weight: optional float array, shape (n,).
      drop_intermediate: drop thresholds that do not change the curve (concrete inputs only).
      num_thresholds: None for every distinct score, or T for the binned curve.

    Returns:
      ``(precision, recall, thresholds)``, thresholds increasing, precision and recall one point
      longer (ending at precision 1, recall 0). Under jit, one point per example. Thresholds
      are the input's own scores: a NumPy array of its dtype when concrete scores are wider
      than JAX's float dtype (float64 in float32 mode), so ``y_score >= threshold`` holds
      for the scores each threshold came from.
    """
    thresholds, tps, fps = _curve_points(y_true, y_score, sample_weight, pos_label,
                                         num_thresholds, _pr_keep if drop_intermediate else None)
    if is_concrete(tps) and len(tps) and float(tps[-1]) == 0:
        warn_undefined(_NO_POSITIVES, UserWarning)  # sklearn's category here
    predicted = tps + fps
    precision = jnp.where(predicted != 0, tps / jnp.where(predicted != 0, predicted, 1), 0.0)
    recall = jnp.where(tps[-1] == 0, 1.0, tps / jnp.where(tps[-1] == 0, 1, tps[-1]))
    one = jnp.ones((1,), precision.dtype)
    return (jnp.concatenate([precision[::-1], one]), jnp.concatenate([recall[::-1], 0 * one]),
            thresholds[::-1])  # NumPy (the input's dtype) when float32 cannot hold them


def roc_curve(y_true, y_score, *, pos_label=None, sample_weight=None,
              drop_intermediate: bool = True, num_thresholds: int | None = None):
    """False- and true-positive rates at every threshold, as ``sklearn.metrics.roc_curve``.

    Args: as ``precision_recall_curve`` (``drop_intermediate`` defaults to True here).

    Returns:
      ``(fpr, tpr, thresholds)``, thresholds decreasing from ``inf``; a rate whose class is
      absent is NaN (with an ``UndefinedMetricWarning`` for concrete inputs).
    """
    thresholds, tps, fps = _curve_points(y_true, y_score, sample_weight, pos_label,
                                         num_thresholds, _roc_keep if drop_intermediate else None)
    if is_concrete(tps) and len(tps):
        for rates, count in (("false", fps), ("true", tps)):
            if float(count[-1]) == 0:
                warn_undefined(f"No {'negative' if rates == 'false' else 'positive'} samples "
                               f"in y_true, {rates} positive value should be meaningless")
    zero = jnp.zeros((1,), tps.dtype)
    tps, fps = jnp.concatenate([zero, tps]), jnp.concatenate([zero, fps])
    if isinstance(thresholds, np.ndarray):  # the input's own values, see precision_recall_curve
        thresholds = np.concatenate([[np.inf], thresholds])
    else:
        thresholds = jnp.concatenate([jnp.full((1,), jnp.inf, thresholds.dtype), thresholds])
    fpr = fps / jnp.where(fps[-1] > 0, fps[-1], jnp.nan)
    tpr = tps / jnp.where(tps[-1] > 0, tps[-1], jnp.nan)
    return fpr, tpr, thresholds


__all__ = [
    "average_precision_score",
    "precision_recall_curve",
    "roc_auc_score",
    "roc_curve",
]
