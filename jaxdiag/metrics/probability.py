"""Metrics of predicted scores and probabilities per class: top-k accuracy and log loss."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np

from ._inputs import column_index, column_labels, is_concrete, present_labels, scored_inputs
from .undefined import warn_undefined


def class_index(y_true, labels, num_classes: int):
    """Column of each true label: its index in ``labels`` (default the sorted present labels)."""
    if labels is None:
        if not is_concrete(y_true):
            return jnp.asarray(y_true).astype(jnp.int32)
        labels = present_labels(y_true)
        if len(labels) != num_classes:
            raise ValueError(f"labels: y_true holds {len(labels)} classes but the scores have "
                             f"{num_classes} columns; pass labels= to name the columns")
    return column_index(y_true, column_labels(labels, num_classes))


def _mean(values, weight, normalize: bool):
    if weight is None:
        return values.mean() if normalize else values.sum()
    total = (values * weight).sum()
    return total / weight.sum() if normalize else total


def top_k_accuracy_score(y_true, y_score, *, k: int = 2, normalize: bool = True,
                         sample_weight=None, labels=None) -> jax.Array:
    """Fraction of examples whose true label is among the k highest scores.

    As ``sklearn.metrics.top_k_accuracy_score``, including its tie rule (among equal scores the
    later class ranks higher).

    Args:
      y_true: labels, shape (n,).
      y_score: float array, shape (n, C) (or (n,) for a binary target, the positive score).
      k: number of top-ranked classes that count as right.
      normalize: False returns the (weighted) count.
      sample_weight: optional float array, shape (n,).
      labels: the label of each score column (static under jit); default the sorted labels
        present in ``y_true`` (which must then be all C of them), or 0..C-1 under jit.

    Returns:
      0-d float array.
    """
    y_true, y_score, weight = scored_inputs(y_true, y_score, sample_weight)
    num_classes = 2 if y_score.ndim == 1 else y_score.shape[1]
    if k >= num_classes:
        warn_undefined(f"'k' ({k}) greater than or equal to 'n_classes' ({num_classes}) will "
                       "result in a perfect score and is therefore meaningless.")
    if y_score.ndim == 1:
        if k != 1:
            return _mean(jnp.ones(y_score.shape, y_score.dtype), weight, normalize)
        in_unit = (y_score.min() >= 0) & (y_score.max() <= 1)
        predicted = (y_score > jnp.where(in_unit, 0.5, 0.0)).astype(jnp.int32)
        hit = predicted == class_index(y_true, labels, 2)
    else:
        index = class_index(y_true, labels, y_score.shape[1])
        true_score = jnp.take_along_axis(y_score, index[:, None], axis=1)
        later = jnp.arange(y_score.shape[1]) > index[:, None]
        ahead = (y_score > true_score) | ((y_score == true_score) & later)
        hit = ahead.sum(axis=1) < k
    return _mean(hit.astype(jnp.result_type(float)), weight, normalize)


def log_loss(y_true, y_proba=None, *, normalize: bool = True, sample_weight=None,
             labels=None, y_pred="deprecated") -> jax.Array:
    """Cross-entropy of the true labels under the predicted probabilities, as sklearn's log_loss.

    Probabilities are clipped to [eps, 1 - eps] with eps the machine epsilon of the input's
    own float dtype, read before the cast to JAX's (float64 for integer input, as sklearn):
    float64 input clips at 2.2e-16 in float32 mode too.

    Args:
      y_true: labels, shape (n,).
      y_proba: probabilities, shape (n, C), or (n,) for the positive class of a binary target.
      normalize: False returns the (weighted) sum instead of the mean.
      sample_weight: optional float array, shape (n,).
      labels: the classes (static under jit), whose sorted order is the columns'; default
        the sorted labels present.
      y_pred: the old name of ``y_proba`` (deprecated in sklearn 1.9): a ``FutureWarning``.

    Returns:
      0-d float array (natural log). Concrete rows that do not sum to 1 (to the square root
      of their dtype's epsilon) give sklearn's ``UserWarning``.
    """
    if not (isinstance(y_pred, str) and y_pred == "deprecated"):
        if y_proba is not None:
            raise ValueError("y_pred: expected it unset when y_proba is given (y_pred is "
                             "y_proba's deprecated name), found both")
        warnings.warn("`y_pred` was deprecated in favor of `y_proba` (as in scikit-learn "
                      "1.9); pass y_proba", FutureWarning, stacklevel=2)
        y_proba = y_pred
    eps = _input_eps(y_proba)
    if np.ndim(y_proba) == 1 and is_concrete(y_proba) and not isinstance(y_proba, jax.Array):
        # the complement in the input's own precision (1 - p of float64 p near 1 is lost in
        # float32)
        positive = np.asarray(y_proba)
        positive = positive if positive.dtype.kind == "f" else positive.astype(np.float64)
        y_proba = np.stack([1 - positive, positive], axis=1)
    given = y_proba
    y_true, y_proba, weight = scored_inputs(y_true, y_proba, sample_weight, "y_proba")
    if y_proba.ndim == 2 and is_concrete(given):
        sums = np.asarray(given, np.float64).sum(axis=1)
        if not np.allclose(sums, 1, rtol=np.sqrt(eps), atol=0):
            warn_undefined("The y_prob values do not sum to one. Make sure to pass "
                           "probabilities.", UserWarning)  # sklearn's category here
    if is_concrete(y_proba):
        low, high = float(np.min(y_proba)), float(np.max(y_proba))
        if low < 0 or high > 1:
            raise ValueError(f"y_proba: expected probabilities in [0, 1], found values in "
                             f"[{low}, {high}]")
    if not jnp.issubdtype(y_proba.dtype, jnp.floating):
        y_proba = y_proba.astype(jnp.result_type(float))
    if y_proba.ndim == 1:
        y_proba = jnp.stack([1 - y_proba, y_proba], axis=1)
    if labels is not None and list(labels) != sorted(labels):
        ordered = sorted(labels)
        warn_undefined(f"Labels passed were {list(labels)}. But this function assumes labels "
                       f"are ordered lexicographically. Pass the ordered labels={ordered} and "
                       "ensure that the columns of y_prob correspond to this ordering.",
                       UserWarning)  # sklearn's words
    # sklearn's columns are the sorted distinct labels, in whatever order they are given
    index = class_index(y_true, None if labels is None else np.unique(labels), y_proba.shape[1])
    chosen = jnp.take_along_axis(jnp.clip(y_proba, eps, 1 - eps), index[:, None], axis=1)[:, 0]
    return _mean(-jnp.log(chosen), weight, normalize)


def _input_eps(y_proba) -> float:
    """The machine epsilon of ``y_proba``'s own float dtype (float64 for other dtypes)."""
    dtype = np.dtype(y_proba.dtype if hasattr(y_proba, "dtype") else np.asarray(y_proba).dtype)
    return float(np.finfo(dtype if np.issubdtype(dtype, np.floating) else np.float64).eps)


__all__ = ["log_loss", "top_k_accuracy_score"]
