"""What a population's member is: the ``Task`` contract, its hyperparameters and evaluation.

A task is a frozen (hashable) description of the model every member trains; each member
differs only in its scalar hyperparameters (traced, so ``jax.vmap`` over members gives each its
own learning rate, momentum, weight decay, dropout rate and initialization scale) and its seed.
What changes shapes (width, depth, the optimizer, a user model's static arguments) is a field
of the task: one compiled program per distinct task. ``jaxdiag.search.ModelTask`` makes any
model of the model contract a task, and ``mlp_task`` the built-in ``jaxdiag.models.MLP``.
"""

from typing import Any, Protocol

import jax
import jax.numpy as jnp
import optax

from jaxdiag.experiment.optimizer import optimizer

HParams = dict[str, jax.Array]  # scalars per member (arrays of shape (K,) for a population)
State = Any  # what a member's model carries besides its parameters; {} for none

# Traced per member, with the value a point without them takes.
MEMBER_HPARAMS = {"learning_rate": 1e-2, "momentum": 0.9, "weight_decay": 0.0,
                  "dropout": 0.0, "init_scale": 1.0, "remedy_weight": 0.0}
SHAPE_HPARAMS = ("width", "depth")  # change shapes: a population is bucketed by these


class Task(Protocol):
    """What the population trainer needs of a member's model; all methods are pure and
    traceable (``hp`` holds traced scalars), and the task itself is hashable.

    Attributes:
      name: the model's class name, for reports.
      traced_hparams: the names of ``MEMBER_HPARAMS`` this task honours per member.
    """

    name: str
    traced_hparams: tuple[str, ...]

    def init(self, key: jax.Array, hp: HParams) -> tuple[Any, State]:
        """A member's initial (params, state) from its key."""

    def loss(self, params: Any, state: State, x: jax.Array, y: jax.Array,
             key: jax.Array | None, hp: HParams) -> tuple[jax.Array, State]:
        """(mean training loss of the batch, new state); ``key`` draws dropout masks."""

    def logits(self, params: Any, state: State, x: jax.Array) -> jax.Array:
        """Evaluation-mode logits (b, num_classes) of x (b, ...)."""

    def tx(self, hp: HParams) -> optax.GradientTransformation:
        """The member's optimizer with its hyperparameters injected."""

    def step_flops(self, batch_size: int) -> float:
        """FLOPs of one training step (sizes the CPU chunks and groups)."""

    def uses_key(self, dropout: Any) -> bool:
        """Whether training needs a key, given the members' dropout rates (NumPy)."""


EVALUATION_ROWS = 8192  # examples a member's evaluation computes at once


def evaluate(task: Task, params: Any, state: State, x: jax.Array,
             y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(error rate, mean cross-entropy) of ``task``'s model on (x, y) in evaluation mode.

    More than ``EVALUATION_ROWS`` examples are evaluated a block of rows at a time (a
    population's members each held their activations on all of x: 3 GB for 16 members on
    200k examples); the last block is taken back to end at the last row, its rows of the
    block before masked out, so no copy of x is made."""
    n = x.shape[0]
    if n <= EVALUATION_ROWS:
        logits = task.logits(params, state, x)
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
        return jnp.mean(jnp.argmax(logits, -1) != y), loss

    def block(i, sums):
        start = jnp.minimum(i * EVALUATION_ROWS, n - EVALUATION_ROWS)
        xb = jax.lax.dynamic_slice_in_dim(x, start, EVALUATION_ROWS)
        yb = jax.lax.dynamic_slice_in_dim(y, start, EVALUATION_ROWS)
        new = start + jnp.arange(EVALUATION_ROWS) >= i * EVALUATION_ROWS
        logits = task.logits(params, state, xb)
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, yb)
        return (sums[0] + jnp.sum(new & (jnp.argmax(logits, -1) != yb)),
                sums[1] + jnp.sum(jnp.where(new, loss, 0.0)))

    mistakes, loss = jax.lax.fori_loop(0, -(-n // EVALUATION_ROWS), block,
                                       (jnp.zeros((), jnp.int32), jnp.zeros(())))
    return mistakes / n, loss / n


def injected_tx(name: str, hp: HParams) -> optax.GradientTransformation:
    """The optimizer ``name`` (``jaxdiag.experiment.optimizer``) with ``hp``'s learning rate,
    momentum and weight decay injected as traced scalars."""
    return optimizer(name, hp["learning_rate"], hp["momentum"], hp["weight_decay"])
