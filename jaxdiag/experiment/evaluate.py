"""Loss, error and confusion matrix of a model on one split, in one compiled pass."""

from collections.abc import Callable, Iterator
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdiag.experiment.data_parallel import split_like
from jaxdiag.kernels import confusion_matrix
from jaxdiag.models import Model, Params, State


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
    model: Model, num_classes: int, batch_size: int = 1024
) -> Callable[[Params, State, np.ndarray, np.ndarray], Evaluation]:
    """``evaluate(params, state, x, y) -> Evaluation`` of ``model`` in evaluation mode, for x
    of shape (n, ...) and int labels y (n,).

    The split is padded to whole batches of ``batch_size`` (padding has weight 0) and scanned
    batch by batch, ``CHUNK_BATCHES`` batches per compiled call (the running sums carried
    from call to call, so the sums are those of one scan): memory stays bounded by a chunk,
    whatever the split's size, and splits of up to ``batch_size`` examples share one program.
    Params replicated by data-parallel training (``fit`` on several devices) have the batches
    split over the same devices (``split_like``).
    """

    @jax.jit
    def sums(params: Params, state: State, xb: jax.Array, yb: jax.Array, wb: jax.Array,
             init: tuple[jax.Array, jax.Array]):
        def body(carry, batch):
            x, y, w = batch
            logits = model.logits(params, state, x)
            loss = optax.softmax_cross_entropy_with_integer_labels(logits, y)
            counts = confusion_matrix(y, jnp.argmax(logits, axis=-1), num_classes, w)
            return (carry[0] + jnp.sum(loss * w), carry[1] + counts), None

        return jax.lax.scan(body, init, (xb, yb, wb))[0]

    def evaluate(params: Params, state: State, x: np.ndarray, y: np.ndarray) -> Evaluation:
        n = len(y)
        totals = (jnp.zeros(()), jnp.zeros((num_classes, num_classes)))
        for rows in _chunks(n, batch_size):
            xb, yb, wb = split_like(tuple(_batched(a, batch_size) for a in (
                x[rows], y[rows], np.ones(rows.stop - rows.start, np.float32))), params)
            totals = sums(params, state, xb, yb, wb, totals)
        loss_sum, confusion = totals
        confusion = np.asarray(confusion).round().astype(np.int64)
        accuracy = float(np.trace(confusion) / n)
        return Evaluation(float(loss_sum) / n, 1.0 - accuracy, accuracy, confusion)

    return evaluate


def make_block_predictor(
    model: Model, batch_size: int = 1024
) -> Callable[[Params, State, np.ndarray], Iterator[np.ndarray]]:
    """``predict(params, state, x) -> iterator of probabilities``: consecutive blocks of rows
    of the float32 (n, C) softmax of ``model``'s evaluation-mode logits of x (n, ...), each of
    up to ``CHUNK_BATCHES * batch_size`` rows, computed as the iterator is read (a
    ``lax.map`` over the block's padded batches of ``batch_size``)."""

    @jax.jit
    def batched(params: Params, state: State, xb: jax.Array) -> jax.Array:
        return jax.lax.map(lambda x: jax.nn.softmax(model.logits(params, state, x), axis=-1),
                           xb)

    def predict(params: Params, state: State, x: np.ndarray) -> Iterator[np.ndarray]:
        for rows in _chunks(len(x), batch_size):  # a chunk's padded copy at a time
            xb = split_like(_batched(x[rows], batch_size), params)
            out = np.asarray(batched(params, state, xb))
            yield out.reshape(-1, out.shape[-1])[:rows.stop - rows.start]

    return predict


def make_predictor(
    model: Model, batch_size: int = 1024
) -> Callable[[Params, State, np.ndarray], np.ndarray]:
    """``predict(params, state, x) -> probabilities``: float32 (n, C), the blocks of
    ``make_block_predictor`` joined."""
    blocks = make_block_predictor(model, batch_size)
    return lambda params, state, x: np.concatenate(list(blocks(params, state, x)))


CHUNK_BATCHES = 64  # batches per compiled call of the evaluator and the predictor


def _chunks(n: int, batch_size: int) -> list[slice]:
    """Rows of consecutive chunks of ``CHUNK_BATCHES`` batches covering ``n`` examples."""
    step = CHUNK_BATCHES * batch_size
    return [slice(start, min(start + step, n)) for start in range(0, max(n, 1), step)]


def _batched(a: np.ndarray, batch_size: int) -> np.ndarray:
    """``a`` (n, ...) zero-padded to whole batches and reshaped to (batches, batch_size, ...)."""
    batches = -(-len(a) // batch_size)
    pad = np.zeros((batches * batch_size - len(a), *a.shape[1:]), a.dtype)
    return np.concatenate([a, pad]).reshape(batches, batch_size, *a.shape[1:])
