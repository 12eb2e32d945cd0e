"""Metrics of predicted scores and probabilities per class: top-k accuracy and log loss."""

import jax
import jax.numpy as jnp
import numpy as np

from ._inputs import encode, is_concrete, present_labels, scored_inputs


def class_index(y_true, labels, num_classes: int):
    """Column of each true label: its index in ``labels`` (default the sorted present labels)."""
    if labels is None:
        if not is_concrete(y_true):
            return jnp.asarray(y_true).astype(jnp.int32)
        labels = present_labels(y_true)
        if len(labels) != num_classes:
            raise ValueError(f"labels: y_true holds {len(labels)} classes but the scores have "
                             f"{num_classes} columns; pass labels= to name the columns")
    labels = np.asarray(labels)
    if len(labels) != num_classes:
        raise ValueError(f"labels: expected {num_classes} labels (one per score column), "
                         f"found {len(labels)}")
    index = encode(y_true, labels)
    if is_concrete(index) and (np.asarray(index) < 0).any():
        raise ValueError(f"y_true: found labels not in labels={labels.tolist()}")
    return jnp.asarray(index)


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


def log_loss(y_true, y_proba, *, normalize: bool = True, sample_weight=None,
             labels=None) -> jax.Array:
    """Cross-entropy of the true labels under the predicted probabilities, as sklearn's log_loss.

    Probabilities are clipped to [eps, 1 - eps] with eps the dtype's machine epsilon.

    Args:
      y_true: labels, shape (n,).
      y_proba: probabilities, shape (n, C), or (n,) for the positive class of a binary target.
      normalize: False returns the (weighted) sum instead of the mean.
      sample_weight: optional float array, shape (n,).
      labels: the label of each column (static under jit); default the sorted labels present.

    Returns:
      0-d float array (natural log).
    """
    y_true, y_proba, weight = scored_inputs(y_true, y_proba, sample_weight, "y_proba")
    if is_concrete(y_proba):
        low, high = float(np.min(y_proba)), float(np.max(y_proba))
        if low < 0 or high > 1:
            raise ValueError(f"y_proba: expected probabilities in [0, 1], found values in "
                             f"[{low}, {high}]")
    if not jnp.issubdtype(y_proba.dtype, jnp.floating):
        y_proba = y_proba.astype(jnp.result_type(float))
    if y_proba.ndim == 1:
        y_proba = jnp.stack([1 - y_proba, y_proba], axis=1)
    index = class_index(y_true, labels, y_proba.shape[1])
    eps = jnp.finfo(y_proba.dtype).eps
    chosen = jnp.take_along_axis(jnp.clip(y_proba, eps, 1 - eps), index[:, None], axis=1)[:, 0]
    return _mean(-jnp.log(chosen), weight, normalize)


__all__ = ["log_loss", "top_k_accuracy_score"]
