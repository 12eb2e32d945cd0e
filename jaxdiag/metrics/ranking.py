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
    device_float,
    encode,
    is_concrete,
    order_preserving,
    present_labels,
    sample_weights,
)

AVERAGES = (None, "micro", "macro", "weighted", "samples")


def _scores(y_score, ndim=(1,), num_thresholds=None):
    """Checked scores on the device, and what their values stand for: the exact curves and
    areas read only the order of the scores, so concrete scores that the device dtype would
    reorder or tie are replaced by their ranks (``order_preserving``); binned curves read the
    values themselves.

    Returns:
      (jnp scores, the input values that rank k stands for, or None).
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


def _binary_inputs(y_true, y_score, sample_weight, pos_label, num_thresholds):
    """Checks around scores already checked by ``_scores``; returns jnp (y_true, scores, w)."""
    y_true = as_array("y_true", y_true)
    check_length(y_true.shape[0], y_score=y_score)
    _check_thresholds(num_thresholds, y_score)
    return (jnp.asarray(binary_target("y_true", y_true, pos_label)), y_score,
            sample_weights(sample_weight, y_true.shape[0]))


def _indicator(y_true, y_score, labels):
    """Multiclass labels (n,) as one-hot (n, C) against the C score columns."""
    num_classes = y_score.shape[1]
    if labels is None:
        labels = present_labels(y_true) if is_concrete(y_true) else np.arange(num_classes)
    labels = np.asarray(labels)
    if len(labels) != num_classes:
        raise ValueError(f"labels: expected {num_classes} classes (one per y_score column), "
                         f"found {len(labels)}: {labels[:10].tolist()}")
    index = jnp.asarray(encode(y_true, labels))
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
                                                 num_thresholds)
        return _ap(y_true, y_score, weight, num_thresholds)
    y_true, weight = _multi_inputs(y_true, y_score, sample_weight, None, num_thresholds)
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
    return jnp.asarray(y_true).astype(bool), weight


def roc_auc_score(y_true, y_score, *, average: str | None = "macro", sample_weight=None,
                  multi_class: str = "raise", labels=None,
                  num_thresholds: int | None = None) -> jax.Array:
    """Area under the ROC curve, as ``sklearn.metrics.roc_auc_score``.

    Args:
      y_true: binary labels, shape (n,); multiclass labels (n,) with ``multi_class="ovr"``; or
        0/1 indicators, shape (n, C).
      y_score: float array, shape (n,) (the positive class score) or (n, C). For multiclass,
        rows are probabilities that sum to 1.
      average: for several columns: None, "micro", "macro", "weighted", "samples".
      sample_weight: optional float array, shape (n,).
      multi_class: "raise" (multiclass is an error, scikit-learn's default) or "ovr".
      labels: the class of each y_score column for multiclass (static under jit).
      num_thresholds: None for the exact curve, or T for the binned curve (scores in [0, 1]).

    Returns:
      0-d float array (shape (C,) for ``average=None``).
    """
    rows = as_array("y_score", y_score, ndim=(1, 2), numeric=True)
    y_score, _ = _scores(rows, (1, 2), num_thresholds)
    if y_score.ndim == 1:
        y_true, y_score, weight = _binary_inputs(y_true, y_score, sample_weight, None,
                                                 num_thresholds)
        if is_concrete(y_true) and (np.asarray(y_true).all() or not np.asarray(y_true).any()):
            raise ValueError("y_true: ROC AUC needs both classes, found only one")
        return _auc(y_true, y_score, weight, num_thresholds)
    if multi_class not in ("raise", "ovr"):
        raise ValueError(f"multi_class: expected 'raise' or 'ovr' (one-vs-one is not "
                         f"implemented), found {multi_class!r}")
    y_true_array = as_array("y_true", y_true, ndim=(1, 2))
    if y_true_array.ndim == 1:
        if multi_class == "raise":
            raise ValueError("multi_class: multiclass targets need multi_class='ovr', "
                             "found 'raise'")
        if average not in ("macro", "weighted", "micro", None):
            raise ValueError(f"average: one-vs-rest needs 'macro', 'weighted', 'micro' or "
                             f"None, found {average!r}")
        if is_concrete(rows) and not np.allclose(np.asarray(rows).sum(axis=1), 1):
            raise ValueError("y_score: multiclass ROC AUC needs probabilities whose rows sum "
                             "to 1")
    y_true, weight = _multi_inputs(y_true_array, y_score, sample_weight, labels, num_thresholds)
    return _per_column(lambda t, s, w: _auc(t, s, w, num_thresholds), y_true, y_score, weight,
                       average)


@partial(jax.jit, static_argnums=3)
def _padded_points(y_true, y_score, weight, num_thresholds):
    """One point per example (or bin): thresholds, float tps and fps at the group ends."""
    curve = _curve(y_true, y_score, weight, num_thresholds)
    dtype = jnp.result_type(float)
    return (curve.threshold, at_group_end(curve, curve.tps).astype(dtype),
            at_group_end(curve, curve.fps).astype(dtype), curve.is_threshold)


def _curve_points(y_true, y_score, sample_weight, pos_label, num_thresholds, drop):
    """(thresholds, tps, fps): compacted to distinct thresholds when concrete, else padded."""
    y_score, values = _scores(y_score, num_thresholds=num_thresholds)
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
    if values is not None:  # ranks back to the input's own scores, in its own dtype
        return values[thresholds.astype(np.int64)], jnp.asarray(tps), jnp.asarray(fps)
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
      are the input's own scores: a NumPy array of its dtype when concrete scores are ones
      that JAX's float32 would reorder or tie (float64 values 1e-9 apart, or past 3.4e38).
    """
    thresholds, tps, fps = _curve_points(y_true, y_score, sample_weight, pos_label,
                                         num_thresholds, _pr_keep if drop_intermediate else None)
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
      absent is NaN.
    """
    thresholds, tps, fps = _curve_points(y_true, y_score, sample_weight, pos_label,
                                         num_thresholds, _roc_keep if drop_intermediate else None)
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
