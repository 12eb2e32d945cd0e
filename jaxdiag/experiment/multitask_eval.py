"""Per-task dev and test metrics of a multi-head model, from ``jaxdiag.metrics``."""

from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from jaxdiag.experiment.masked_loss import labelled_mask, masked_task_loss
from jaxdiag.metrics import accuracy_score, f1_score, roc_auc_score
from jaxdiag.models import Params

Labels = Mapping[str, np.ndarray]


def make_multitask_evaluator(
    apply: Callable[[Params, jax.Array], dict[str, jax.Array]],
    kinds: Mapping[str, str],
    weights: Mapping[str, float],
    batch_size: int = 1024,
) -> Callable[[Params, np.ndarray, Labels], dict]:
    """``evaluate(params, x, labels) -> metrics`` over the labelled entries of each task.

    x: float array (n, ...); labels: {task: int array}, -1 for "not labelled". Outputs and
    metrics are one compiled program: a ``lax.map`` over batches of ``batch_size`` (the split
    is padded with unlabelled rows to whole batches), then ``jaxdiag.metrics`` weighted by
    the labelled mask.

    Returns:
      {"loss": weighted sum of the task losses, "accuracy": mean task accuracy, "tasks":
      {task: {"loss", "accuracy", "f1", "roc_auc", "labelled"}}}. f1 is macro-averaged for a
      multiclass task; roc_auc is for binary tasks with both classes labelled (else None).
      Binary tasks with k labels per example pool their n x k labelled entries.
    """

    @jax.jit
    def metrics(params: Params, xb: jax.Array, labels: Labels) -> dict[str, dict]:
        out = jax.lax.map(lambda x: apply(params, x), xb)
        return {name: _task_metrics(logits.reshape(-1, *logits.shape[2:]), labels[name],
                                    kinds[name]) for name, logits in out.items()}

    def evaluate(params: Params, x: np.ndarray, labels: Labels) -> dict:
        n = len(x)
        padded = -(-n // batch_size) * batch_size  # dev and test of <= batch_size share a program
        xb = _pad(x, padded, 0).reshape(-1, batch_size, *x.shape[1:])
        results = jax.device_get(metrics(params, xb, {name: _pad(np.asarray(y), padded, -1)
                                                      for name, y in labels.items()}))
        tasks = {name: _as_floats(m) for name, m in results.items()}
        return {"loss": float(sum(weights[t] * m["loss"] for t, m in tasks.items())),
                "accuracy": float(np.mean([m["accuracy"] for m in tasks.values()])),
                "tasks": tasks}

    return evaluate


def _pad(a: np.ndarray, size: int, value: int) -> np.ndarray:
    return np.concatenate([a, np.full((size - len(a), *a.shape[1:]), value, a.dtype)])


def _task_metrics(logits: jax.Array, labels: jax.Array, kind: str) -> dict[str, jax.Array]:
    """Traced metrics of one task over its labelled entries (label -1: ignored)."""
    labelled = labelled_mask(labels)
    weight = labelled.astype(jnp.float32).ravel()
    y = jnp.where(labelled, labels, 0).ravel()
    count = weight.sum()
    if kind == "multiclass":
        predicted = logits.argmax(-1)
        f1 = f1_score(y, predicted, labels=np.arange(logits.shape[-1]), average="macro",
                      sample_weight=weight, zero_division=0.0)
        auc, both = jnp.nan, False
    else:
        score = logits.ravel()
        predicted = (score > 0).astype(y.dtype)
        f1 = f1_score(y, predicted, sample_weight=weight, zero_division=0.0)
        positives = (y * weight).sum()
        both = (positives > 0) & (positives < count)
        auc = roc_auc_score(y, score, sample_weight=weight)
    return {"loss": masked_task_loss(logits, labels, kind),
            "accuracy": accuracy_score(y, predicted.ravel(), sample_weight=weight),
            "f1": f1, "roc_auc": auc, "both_classes": both, "labelled": count}


def _as_floats(m: dict) -> dict:
    """Host numbers: accuracy and f1 NaN without labels, roc_auc None without both classes."""
    count = int(m["labelled"])
    missing = float("nan")
    return {"loss": float(m["loss"]),
            "accuracy": float(m["accuracy"]) if count else missing,
            "f1": float(m["f1"]) if count else missing,
            "roc_auc": float(m["roc_auc"]) if bool(m["both_classes"]) else None,
            "labelled": count}
