"""Set-wise classification metrics with scikit-learn's names, arguments and results.

Labels are read from the data when the inputs are concrete, as scikit-learn does. Under ``jit``
and ``vmap`` they cannot be: pass ``labels=`` (a static sequence) for multiclass targets; the
binary average uses ``pos_label`` (default 1) and needs nothing more.
"""

import jax
import jax.numpy as jnp
import numpy as np

from jaxdiag.kernels import confusion_matrix as confusion_kernel
from jaxdiag.kernels import label_counts

from ._inputs import (
    as_array,
    encode,
    equal,
    is_concrete,
    is_multilabel,
    present_labels,
    sample_weights,
    zero_division_value,
)
from .undefined import warn_undefined

AVERAGES = (None, "binary", "micro", "macro", "weighted", "samples")


def _targets(y_true, y_pred, sample_weight):
    y_true = as_array("y_true", y_true, ndim=(1, 2))
    y_pred = as_array("y_pred", y_pred, ndim=(1, 2))
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_pred: expected the shape of y_true {y_true.shape}, "
                         f"found {y_pred.shape}")
    return y_true, y_pred, sample_weights(sample_weight, y_true.shape[0])


def _weighted_mean(values, weight, normalize: bool):
    values = values.astype(jnp.result_type(float))
    if weight is None:
        return values.mean() if normalize else values.sum()
    total = (values * weight).sum()
    return total / weight.sum() if normalize else total


def accuracy_score(y_true, y_pred, *, normalize: bool = True, sample_weight=None) -> jax.Array:
    """Fraction (or weighted count) of exactly right predictions.

    Args:
      y_true: labels, shape (n,), or 0/1 indicators, shape (n, L) (subset accuracy).
      y_pred: same shape as ``y_true``.
      normalize: False returns the (weighted) number of right predictions.
      sample_weight: optional float array, shape (n,).

    Returns:
      0-d float array.
    """
    y_true, y_pred, weight = _targets(y_true, y_pred, sample_weight)
    right = equal(y_true, y_pred)
    if y_true.ndim == 2:
        right = right.all(axis=1)
    return _weighted_mean(right, weight, normalize)


def safe_divide(numerator, denominator, zero_division: float):
    safe = jnp.where(denominator == 0, 1, denominator)
    return jnp.where(denominator == 0, zero_division, numerator / safe)


def nan_average(values, weights=None):
    """scikit-learn's ``_nanaverage``: ignore NaN; all-zero weights fall back to the mean."""
    keep = ~jnp.isnan(values)
    values = jnp.where(keep, values, 0)
    count = keep.sum()
    mean = jnp.where(count > 0, values.sum() / jnp.maximum(count, 1), jnp.nan)
    if weights is None:
        return mean
    weights = jnp.where(keep, weights, 0)
    total = weights.sum()
    weighted = (values * weights).sum() / jnp.where(total > 0, total, 1)
    return jnp.where(total > 0, weighted, mean)


def _set_counts(y_true, y_pred, weight, labels, average, pos_label):
    """Per-label (tp, predicted, true) weights, or per-example ones for average='samples'."""
    if is_multilabel(y_true):
        if average == "binary":
            raise ValueError("average: 'binary' needs a binary target, found a multilabel "
                             f"indicator of shape {y_true.shape}; use 'micro', 'macro', "
                             "'weighted', 'samples' or None")
        if labels is not None:
            columns = np.asarray(labels)
            if columns.min() < 0 or columns.max() >= y_true.shape[1]:
                raise ValueError(f"labels: expected column indices in [0, {y_true.shape[1]}), "
                                 f"found {columns.tolist()}")
            y_true, y_pred = y_true[:, columns], y_pred[:, columns]
        return label_counts(jnp.asarray(y_true), jnp.asarray(y_pred), weight,
                            axis=1 if average == "samples" else 0)
    if average == "samples":
        raise ValueError("average: 'samples' is defined for multilabel targets only, found "
                         f"y_true of shape {y_true.shape}")
    concrete = is_concrete(y_true, y_pred)
    present = present_labels(y_true, y_pred) if concrete else None
    if average == "binary":
        pos_label = 1 if pos_label is None else pos_label
        if concrete:
            if len(present) > 2:
                raise ValueError(f"average: 'binary' needs at most two classes, found "
                                 f"{len(present)}; use 'micro', 'macro', 'weighted' or None")
            if pos_label not in present.tolist() and len(present) == 2:
                raise ValueError(f"pos_label: expected one of {present.tolist()}, "
                                 f"found {pos_label!r}")
        selected = np.asarray([pos_label])
    elif labels is not None:
        selected = np.asarray(labels)
    elif concrete:
        selected = present
    else:
        raise ValueError("labels: under jit or vmap the classes cannot be read from the data; "
                         "pass labels=range(num_classes)")
    true_index = jnp.asarray(encode(y_true, selected))
    pred_index = jnp.asarray(encode(y_pred, selected))
    hit = jnp.where(true_index == pred_index, true_index, -1)
    return tuple(_label_weights(index, weight, len(selected)) for index in
                 (hit, pred_index, true_index))


def _label_weights(index, weight, count: int):
    """Total weight per label index in [0, count); index -1 (a label not reported) is dropped."""
    dtype = jnp.result_type(float) if weight is None else weight.dtype
    values = jnp.ones(index.shape, dtype) if weight is None else weight
    index = jnp.where(index < 0, count, index)
    return jnp.zeros(count, dtype).at[index].add(values, mode="drop")


def precision_recall_fscore_support(
    y_true,
    y_pred,
    *,
    beta: float = 1.0,
    labels=None,
    pos_label=1,
    average: str | None = None,
    sample_weight=None,
    zero_division="warn",
    warn_for=("precision", "recall", "f-score"),
):
    """Precision, recall, F-beta and support, as scikit-learn's function of that name.

    Args:
      y_true: labels, shape (n,), or 0/1 indicators, shape (n, L) for multilabel targets.
      y_pred: same shape as ``y_true``.
      beta: weight of recall in the F-score; ``inf`` gives recall, 0 precision.
      labels: the labels to report, in order (static under jit); default all present labels.
      pos_label: the positive class when ``average="binary"``.
      average: None (per label), "binary", "micro", "macro", "weighted" or "samples".
      sample_weight: optional float array, shape (n,).
      zero_division: value of a 0/0 ratio: "warn" (0, with an ``UndefinedMetricWarning``
        for concrete inputs, as sklearn), 0, 1, "nan" or ``np.nan``.
      warn_for: which of "precision", "recall" and "f-score" warn when ill-defined.

    Returns:
      ``(precision, recall, fbeta, support)``: float arrays of shape (len(labels),) for
      ``average=None``, else 0-d arrays and ``support=None``.
    """
    if average not in AVERAGES:
        raise ValueError(f"average: expected one of {AVERAGES}, found {average!r}")
    if beta < 0:
        raise ValueError(f"beta: expected a non-negative number, found {beta}")
    zero = zero_division_value(zero_division)
    if average != "binary" and pos_label not in (None, 1):
        warn_undefined(f"Note that pos_label (set to {pos_label!r}) is ignored when average != "
                       f"'binary' (got {average!r}). You may use labels=[pos_label] to specify "
                       "a single positive class.", UserWarning)  # sklearn's words
    y_true, y_pred, weight = _targets(y_true, y_pred, sample_weight)
    tp, predicted, true = _set_counts(y_true, y_pred, weight, labels, average, pos_label)
    if average == "micro":
        tp, predicted, true = tp.sum(keepdims=True), predicted.sum(keepdims=True), true.sum(
            keepdims=True)
    precision = safe_divide(tp, predicted, zero)
    recall = safe_divide(tp, true, zero)
    if np.isposinf(beta):
        fscore = recall
    elif beta == 0:
        fscore = precision
    else:
        beta2 = beta**2
        fscore = safe_divide((1 + beta2) * tp, beta2 * true + predicted, zero)
    if zero_division == "warn" and is_concrete(tp, predicted, true):
        _warn_ill_defined(warn_for, average, np.asarray(predicted), np.asarray(true))
    if average is None:
        return precision, recall, fscore, true
    weights = {"weighted": true, "samples": weight}.get(average)
    return (nan_average(precision, weights), nan_average(recall, weights),
            nan_average(fscore, weights), None)


def _integer_weights(sample_weight, n: int) -> jax.Array:
    """Counts' weights as JAX's default integers: ones, or the integer or bool weights as
    they are (a float cast would round int64 weights); a concrete total past that integer's
    range is refused rather than wrapped (int32 unless x64 is on)."""
    dtype = jnp.result_type(int)
    if sample_weight is None:
        return jnp.ones(n, dtype)
    if not is_concrete(sample_weight):
        return jnp.asarray(sample_weight).astype(dtype)
    weights = np.asarray(sample_weight).astype(np.int64)
    if dtype == jnp.int32 and int(weights.sum()) > np.iinfo(np.int32).max:
        raise ValueError(f"sample_weight: expected integer weights whose total fits in int32, "
                         f"found {int(weights.sum())}; turn on jax_enable_x64")
    return jnp.asarray(weights.astype(dtype))


def _warn_ill_defined(warn_for, average, predicted: np.ndarray, true: np.ndarray) -> None:
    """sklearn's warnings for ratios that zero_division="warn" sets to 0.0."""
    per = "samples" if average == "samples" else "labels"
    cases = {"precision": (predicted == 0, "predicted"), "recall": (true == 0, "true"),
             "f-score": ((predicted == 0) & (true == 0), "true nor predicted")}
    for metric in warn_for:
        zero, what = cases[metric]
        if zero.any():
            where = (f"due to no {what} samples" if zero.size == 1 else
                     f"in {per} with no {what} {'labels' if per == 'samples' else 'samples'}")
            name = "F-score" if metric == "f-score" else metric.capitalize()
            warn_undefined(f"{name} is ill-defined and being set to 0.0 {where}. Use "
                           "`zero_division` parameter to control this behavior.")


def precision_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary",
                    sample_weight=None, zero_division="warn") -> jax.Array:
    """tp / (tp + fp), as ``sklearn.metrics.precision_score``.

    Same arguments as ``precision_recall_fscore_support``; returns a 0-d float array, or shape
    (len(labels),) for ``average=None``.
    """
    return precision_recall_fscore_support(
        y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
        sample_weight=sample_weight, zero_division=zero_division, warn_for=("precision",))[0]


def recall_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary",
                 sample_weight=None, zero_division="warn") -> jax.Array:
    """tp / (tp + fn), as ``sklearn.metrics.recall_score``; arguments as ``precision_score``."""
    return precision_recall_fscore_support(
        y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
        sample_weight=sample_weight, zero_division=zero_division, warn_for=("recall",))[1]


def fbeta_score(y_true, y_pred, *, beta: float, labels=None, pos_label=1, average="binary",
                sample_weight=None, zero_division="warn") -> jax.Array:
    """Weighted harmonic mean of precision and recall, as ``sklearn.metrics.fbeta_score``.

    Same arguments as ``precision_recall_fscore_support``; returns the F-beta part.
    """
    return precision_recall_fscore_support(
        y_true, y_pred, beta=beta, labels=labels, pos_label=pos_label, average=average,
        sample_weight=sample_weight, zero_division=zero_division, warn_for=("f-score",))[2]


def f1_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", sample_weight=None,
             zero_division="warn") -> jax.Array:
    """F-beta with beta = 1, as ``sklearn.metrics.f1_score``."""
    return fbeta_score(y_true, y_pred, beta=1.0, labels=labels, pos_label=pos_label,
                       average=average, sample_weight=sample_weight, zero_division=zero_division)


def confusion_matrix(y_true, y_pred, *, labels=None, sample_weight=None, normalize=None):
    """Confusion matrix, as ``sklearn.metrics.confusion_matrix``.

    Args:
      y_true: labels, shape (n,).
      y_pred: labels, shape (n,).
      labels: rows and columns, in order (static under jit); examples whose true or
        predicted label is not listed are left out. Default: all present labels, sorted.
      sample_weight: optional float array, shape (n,).
      normalize: None (counts), "true" (rows sum to 1), "pred" (columns) or "all".

    Returns:
      array, shape (C, C): [i, j] is the weight of label i predicted as label j; JAX's
      default integer dtype for counts (unweighted, or integer or bool weights), else its
      float dtype, as is a normalized matrix.

    Raises:
      ValueError: ``labels`` of which none is in a concrete ``y_true`` (as sklearn).
    """
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"normalize: expected None, 'true', 'pred' or 'all', found {normalize!r}")
    counted = sample_weight is None or np.dtype(
        sample_weight.dtype if hasattr(sample_weight, "dtype")
        else np.asarray(sample_weight).dtype).kind in "biu"
    y_true, y_pred, weight = _targets(y_true, y_pred, sample_weight)
    if labels is None:
        if not is_concrete(y_true, y_pred):
            raise ValueError("labels: under jit or vmap the classes cannot be read from the "
                             "data; pass labels=range(num_classes)")
        labels = present_labels(y_true, y_pred)
    labels = np.asarray(labels)
    if labels.size == 0:
        raise ValueError("labels: expected at least one label, found none")
    true_index = encode(y_true, labels)
    if is_concrete(true_index) and (np.asarray(true_index) < 0).all():
        raise ValueError(f"labels: expected at least one label that is in y_true, found "
                         f"none of {labels.tolist()[:10]}")
    if len(labels) == 1:
        warn_undefined("A single label was found in 'y_true' and 'y_pred'. For the confusion "
                       "matrix to have the correct shape, use the 'labels' parameter to pass "
                       "all known labels.", UserWarning)  # sklearn's words
    if counted:
        weight = _integer_weights(sample_weight, y_true.shape[0])
    matrix = confusion_kernel(jnp.asarray(true_index), jnp.asarray(encode(y_pred, labels)),
                              len(labels), weight)
    axis = {"true": (1,), "pred": (0,), "all": (0, 1)}.get(normalize)
    if axis is not None:
        total = matrix.sum(axis=axis, keepdims=True)
        matrix = jnp.where(total > 0, matrix / jnp.where(total > 0, total, 1), 0)
    return matrix


__all__ = [
    "accuracy_score",
    "confusion_matrix",
    "f1_score",
    "fbeta_score",
    "precision_recall_fscore_support",
    "precision_score",
    "recall_score",
]
