"""Task losses with missing labels masked out (Ng's self-driving example: "?" labels)."""

from collections.abc import Mapping

import jax
import jax.numpy as jnp
import optax

MISSING = -1  # the label that means "not labelled"


def labelled_mask(labels: jax.Array, mask: jax.Array | None = None) -> jax.Array:
    """Bool array of ``labels``' shape: True where labelled (label >= 0, and ``mask`` if given)."""
    labelled = labels >= 0
    return labelled if mask is None else labelled & mask.astype(bool)


def masked_task_loss(
    logits: jax.Array, labels: jax.Array, kind: str, mask: jax.Array | None = None,
    class_weights: jax.Array | None = None,
) -> jax.Array:
    """Mean loss over the labelled entries only.

    Args:
      logits: float array. "multiclass": shape (n, C). "binary": shape (n,) or (n, k) for k
        labels per example (multi-label logistic loss).
      labels: int array. "multiclass": (n,) classes in [0, C). "binary": the shape of
        ``logits``, values 0 or 1. Either way -1 means "not labelled".
      kind: "multiclass" (softmax cross-entropy) or "binary" (sigmoid cross-entropy).
      mask: optional array of ``labels``' shape; False (0) also means "not labelled".
      class_weights: "multiclass" only: float (C,), each labelled entry's weight by its class
        (e.g. inverse class frequencies, against an imbalance); None: all 1.

    Returns:
      float32 scalar: the (weighted) loss summed over labelled entries divided by their
      (weighted) count (0 when none is labelled). An unlabelled entry contributes exactly zero
      loss and zero gradient.
    """
    labelled = labelled_mask(labels, mask)
    safe = jnp.where(labelled, labels, 0)  # any valid label; its loss is discarded below
    if kind == "multiclass":
        losses = optax.softmax_cross_entropy_with_integer_labels(logits, safe)
    elif kind == "binary":
        losses = optax.sigmoid_binary_cross_entropy(logits, safe.astype(logits.dtype))
    else:
        raise ValueError(f"kind: expected 'multiclass' or 'binary', found {kind!r}.")
    if class_weights is not None:
        if kind != "multiclass":
            raise ValueError(f"class_weights: expected None for a {kind!r} task, found weights.")
        weight = jnp.where(labelled, jnp.asarray(class_weights)[safe], 0.0)
        return jnp.sum(weight * losses) / jnp.maximum(jnp.sum(weight), 1e-12)
    total = jnp.sum(jnp.where(labelled, losses, 0.0))
    return total / jnp.maximum(jnp.sum(labelled), 1)


def multitask_loss(
    outputs: Mapping[str, jax.Array],
    labels: Mapping[str, jax.Array],
    kinds: Mapping[str, str],
    weights: Mapping[str, float],
    class_weights: Mapping[str, jax.Array] | None = None,
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """``(sum over tasks of weight x masked_task_loss, {task: its loss})``.

    ``outputs``, ``labels``: {task: array} as ``masked_task_loss`` takes them; ``kinds`` and
    ``weights``: {task: kind}, {task: weight} for every task in ``outputs``; ``class_weights``:
    {task: (C,) weights} for the multiclass tasks that weigh their classes.
    """
    class_weights = class_weights or {}
    losses = {name: masked_task_loss(outputs[name], labels[name], kinds[name],
                                     class_weights=class_weights.get(name))
              for name in outputs}
    total = sum(weights[name] * loss for name, loss in losses.items())
    return jnp.asarray(total, jnp.float32), losses
