"""Confusion matrix of integer labels as one scatter-add."""

import jax
import jax.numpy as jnp


def confusion_matrix(
    y_true: jax.Array,
    y_pred: jax.Array,
    num_classes: int,
    sample_weight: jax.Array | None = None,
) -> jax.Array:
    """Counts of (true, predicted) label pairs.

    Args:
      y_true: int array, shape (n,), labels in [0, num_classes).
      y_pred: int array, shape (n,), labels in [0, num_classes).
      num_classes: static number of classes C.
      sample_weight: optional float array, shape (n,); a weight of 0 drops the example
        (used to mask padding).

    Returns:
      float array (the weight dtype), shape (C, C): entry [i, j] is the total weight of
      examples with true label i predicted as j. Labels outside [0, C) are dropped (no error
      under jit).
    """
    if sample_weight is None:
        sample_weight = jnp.ones(y_true.shape, jnp.result_type(float))
    y_true = y_true.astype(jnp.int32)
    y_pred = y_pred.astype(jnp.int32)
    in_range = (y_true >= 0) & (y_true < num_classes) & (y_pred >= 0) & (y_pred < num_classes)
    flat = jnp.where(in_range, y_true * num_classes + y_pred, num_classes * num_classes)
    counts = jnp.zeros(num_classes * num_classes, sample_weight.dtype)
    counts = counts.at[flat].add(sample_weight, mode="drop")
    return counts.reshape(num_classes, num_classes)


def label_counts(
    y_true: jax.Array, y_pred: jax.Array, sample_weight: jax.Array | None = None, axis: int = 0
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """True-positive, predicted and true weights of multilabel indicator matrices.

    Args:
      y_true: 0/1 array, shape (n, L).
      y_pred: 0/1 array, shape (n, L).
      sample_weight: optional float array, shape (n,).
      axis: 0 sums over examples (per label, shape (L,)); 1 over labels (per example, (n,)).

    Returns:
      ``(tp, predicted, true)``, float arrays (the weight dtype if given).
    """
    y_true = y_true.astype(jnp.result_type(float) if sample_weight is None else sample_weight.dtype)
    y_pred = y_pred.astype(y_true.dtype)
    weight = 1 if sample_weight is None else sample_weight[:, None]
    return (
        (y_true * y_pred * weight).sum(axis),
        (y_pred * weight).sum(axis),
        (y_true * weight).sum(axis),
    )
