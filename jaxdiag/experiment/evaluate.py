"""Loss, error and confusion matrix of a model on one split, in one compiled pass."""

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdiag.kernels import confusion_matrix
from jaxdiag.models import ApplyFn, Params


class Evaluation(NamedTuple):
    """A model's numbers on one split.

    Attributes:
      loss: mean softmax cross-entropy.
      error: fraction of examples misclassified (1 - accuracy).
      accuracy: fraction classified right.
      confusion: int64 array, shape (C, C); [i, j] counts true class i predicted as j.
    """

    loss: float
    error: float
    accuracy: float
    confusion: np.ndarray

    def as_dict(self) -> dict:
        return {"loss": self.loss, "error": self.error, "accuracy": self.accuracy,
                "size": int(self.confusion.sum())}


def make_evaluator(
    apply_fn: ApplyFn, num_classes: int, batch_size: int = 1024
) -> Callable[[Params, np.ndarray, np.ndarray], Evaluation]:
    """``evaluate(params, x, y) -> Evaluation`` for x of shape (n, ...) and int labels y (n,).

    The split is padded to whole batches of ``batch_size`` (padding has weight 0) and scanned
    batch by batch, so memory stays bounded and splits of up to ``batch_size`` examples share
    one compiled program.
    """

    @jax.jit
    def sums(params: Params, xb: jax.Array, yb: jax.Array, wb: jax.Array):
        def body(carry, batch):
            x, y, w = batch
            logits = apply_fn(params, x)
            loss = optax.softmax_cross_entropy_with_integer_labels(logits, y)
            counts = confusion_matrix(y, jnp.argmax(logits, axis=-1), num_classes, w)
            return (carry[0] + jnp.sum(loss * w), carry[1] + counts), None

        init = (jnp.zeros(()), jnp.zeros((num_classes, num_classes)))
        return jax.lax.scan(body, init, (xb, yb, wb))[0]

    def evaluate(params: Params, x: np.ndarray, y: np.ndarray) -> Evaluation:
        n = len(y)
        batches = -(-n // batch_size)
        pad = batches * batch_size - n
        xb = np.concatenate([x, np.zeros((pad, *x.shape[1:]), x.dtype)])
        yb = np.concatenate([y, np.zeros(pad, y.dtype)])
        wb = np.concatenate([np.ones(n, np.float32), np.zeros(pad, np.float32)])
        shape = (batches, batch_size)
        loss_sum, confusion = sums(params, xb.reshape(shape + x.shape[1:]), yb.reshape(shape),
                                   wb.reshape(shape))
        confusion = np.asarray(confusion).round().astype(np.int64)
        accuracy = float(np.trace(confusion) / n)
        return Evaluation(float(loss_sum) / n, 1.0 - accuracy, accuracy, confusion)

    return evaluate
