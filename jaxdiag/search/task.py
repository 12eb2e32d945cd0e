"""What a population's member is: the ``Task`` contract, and the built-in MLP task.

A task is a frozen (hashable) description of the model every member trains; each member
differs only in its scalar hyperparameters (traced, so ``jax.vmap`` over members gives each its
own learning rate, momentum, weight decay, dropout rate and initialization scale) and its seed.
What changes shapes (width, depth, the optimizer, a user model's static arguments) is a field
of the task: one compiled program per distinct task. ``MLPTask`` is the built-in MLP with the
stored-transpose dense layer that keeps vmapped MLPs fast on CPUs; ``jaxdiag.search.ModelTask``
makes any model of the model contract a task.
"""

import itertools
import math
from dataclasses import dataclass
from typing import Any, Protocol

import jax
import jax.numpy as jnp
import optax

from jaxdiag.experiment.config import OPTIMIZERS
from jaxdiag.experiment.optimizer import optimizer
from jaxdiag.models.activations import activation

Params = list[tuple[jax.Array, jax.Array]]
HParams = dict[str, jax.Array]  # scalars per member (arrays of shape (K,) for a population)
State = Any  # what a member's model carries besides its parameters; {} for none

# Traced per member, with the value a point without them takes.
MEMBER_HPARAMS = {"learning_rate": 1e-2, "momentum": 0.9, "weight_decay": 0.0,
                  "dropout": 0.0, "init_scale": 1.0}
SHAPE_HPARAMS = ("width", "depth")  # change shapes: a population is bucketed by these


@jax.custom_vjp
def dense(x: jax.Array, w: jax.Array, b: jax.Array) -> jax.Array:
    """``x @ w + b`` for x (batch, in), w (in, out), b (out,), whose weight gradient
    ``x.T @ g`` is computed from a stored copy of ``x.T``.

    Autodiff writes that gradient as a dot contracting the leading axis of both operands;
    under ``vmap`` XLA's CPU backend runs such a batched dot on a generic path about 2.5x
    slower than its library path for ``(in, batch) @ (batch, out)``, and simplifies a plain
    transpose back into the dot. The barrier keeps the transpose, a copy of the activations.
    Being a ``custom_vjp``, it differentiates in reverse mode only (``jax.grad``, not
    ``jax.jvp``).
    """
    return x @ w + b


def _dense_forward(x, w, b):
    return x @ w + b, (jax.lax.optimization_barrier(x.T), w)


def _dense_backward(residuals, g):
    x_t, w = residuals
    return g @ w.T, x_t @ g, g.sum(0)


dense.defvjp(_dense_forward, _dense_backward)


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


def evaluate(task: Task, params: Any, state: State, x: jax.Array,
             y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(error rate, mean cross-entropy) of ``task``'s model on (x, y) in evaluation mode."""
    logits = task.logits(params, state, x)
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    return jnp.mean(jnp.argmax(logits, -1) != y), loss


def injected_tx(name: str, hp: HParams) -> optax.GradientTransformation:
    """The optimizer ``name`` (``jaxdiag.experiment.optimizer``) with ``hp``'s learning rate,
    momentum and weight decay injected as traced scalars."""
    return optimizer(name, hp["learning_rate"], hp["momentum"], hp["weight_decay"])


@dataclass(frozen=True)
class MLPTask:
    """Softmax classification with an MLP of ``depth`` hidden layers of ``width`` units.

    Attributes:
      num_inputs: features per example (inputs are flattened).
      num_classes: output logits.
      width, depth: hidden layer width and count.
      optimizer: one of ``jaxdiag.experiment.OPTIMIZERS`` (sgd, adam, adamw).
      activation: the hidden layers' activation, one of ``jaxdiag.models.ACTIVATIONS``.
    """

    num_inputs: int
    num_classes: int
    width: int = 64
    depth: int = 2
    optimizer: str = "sgd"
    activation: str = "relu"

    name = "MLP"
    traced_hparams = tuple(MEMBER_HPARAMS)

    def __post_init__(self):
        for name in ("num_inputs", "num_classes", "width", "depth"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, found {value!r}.")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer: expected one of {OPTIMIZERS}, found {self.optimizer!r}.")
        activation(self.activation)  # raises ValueError naming the choices

    @property
    def widths(self) -> list[int]:
        return [self.num_inputs, *[self.width] * self.depth, self.num_classes]

    @property
    def num_params(self) -> int:
        w = self.widths
        return sum(a * b + b for a, b in itertools.pairwise(w))

    def step_flops(self, batch_size: int) -> int:
        """FLOPs of one training step on ``batch_size`` examples: 2 per parameter and example
        forward, 4 backward (the dense layers' products; activations and the update are
        not counted)."""
        return 6 * batch_size * self.num_params

    def init(self, key: jax.Array, hp: HParams) -> tuple[Params, State]:
        """He-normal weights times ``hp["init_scale"]``, zero biases; no state."""
        w = self.widths
        keys = jax.random.split(key, len(w) - 1)
        return [(jax.random.normal(k, (a, b)) * hp["init_scale"] * math.sqrt(2.0 / a),
                 jnp.zeros(b)) for k, a, b in zip(keys, w[:-1], w[1:], strict=True)], {}

    def apply(self, params: Params, x: jax.Array, key: jax.Array | None = None,
              dropout: jax.Array | float = 0.0) -> jax.Array:
        """Logits (b, num_classes) of x (b, ...); inverted dropout on hidden units with a key."""
        h = x.reshape(x.shape[0], -1)
        for i, (w, b) in enumerate(params):
            h = dense(h, w, b)
            if i < len(params) - 1:
                h = activation(self.activation)(h)
                if key is not None:
                    keep = jax.random.bernoulli(jax.random.fold_in(key, i), 1 - dropout, h.shape)
                    h = jnp.where(keep, h / (1 - dropout), 0.0)
        return h

    def loss(self, params: Params, state: State, x: jax.Array, y: jax.Array,
             key: jax.Array | None, hp: HParams) -> tuple[jax.Array, State]:
        """Mean softmax cross-entropy on (x, y int (b,)); dropout ``hp["dropout"]`` with a key."""
        logits = self.apply(params, x, key, hp["dropout"])
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(), state

    def logits(self, params: Params, state: State, x: jax.Array) -> jax.Array:
        """Logits without dropout."""
        return self.apply(params, x)

    def tx(self, hp: HParams) -> optax.GradientTransformation:
        """The member's optimizer with its hyperparameters injected (traced scalars)."""
        return injected_tx(self.optimizer, hp)

    def uses_key(self, dropout: Any) -> bool:
        """Masks are drawn only when some member drops units."""
        return bool((dropout > 0).any())
