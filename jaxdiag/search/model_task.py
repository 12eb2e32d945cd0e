"""Any model of the model contract as a population's member: the researcher's own model.

A ``ModelTask`` holds a factory ``key -> model`` (a Flax NNX module, a ``(linen_module,
variables)`` pair or an ``(apply_fn, params)`` pair) or one model whose weights every member
starts from. Members train the model's softmax cross-entropy (or the task's ``loss``) with an
optax optimizer whose learning rate, momentum and weight decay are traced per member; BatchNorm
statistics and dropout RNG state are each member's own carried state.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from jaxdiag.experiment.config import OPTIMIZERS
from jaxdiag.models import Model, as_model
from jaxdiag.search.task import HParams, State, injected_tx

# A user loss: (logits (b, C), labels (b,)) -> mean loss.
LossOfLogits = Callable[[jax.Array, jax.Array], jax.Array]


def _cross_entropy(logits: jax.Array, y: jax.Array) -> jax.Array:
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


@dataclass(frozen=True, eq=False)
class ModelTask:
    """A population of the model that ``factory`` (or ``model``) builds.

    Attributes:
      factory: ``factory(key) -> model``, called once per member with the member's key (under
        tracing: it must build the same structure for every key). For NNX, e.g.
        ``lambda key: Net(rngs=nnx.Rngs(key))``.
      model: instead of a factory, one model: every member starts from its weights (and
        differs by its minibatches, dropout masks, data and hyperparameters).
      optimizer: "adam" (AdamW: b1 = momentum) or "sgd" (momentum, coupled weight decay).
      loss_fn: ``(logits, y) -> mean loss``; softmax cross-entropy by default.
      flops_per_example: FLOPs of one training step per example; 6 per parameter when None
        (exact for dense layers; convolutions reuse weights, so a CNN is undercounted: give
        its count to size the CPU chunks better).

    Traced per member: learning_rate, momentum, weight_decay and init_scale (multiplies the
    initial weights of rank >= 2). A dropout rate is the model's own static attribute: vary it
    with one task per value.
    """

    factory: Callable[[jax.Array], Any] | None = None
    model: Any = None
    optimizer: str = "adam"
    loss_fn: LossOfLogits = _cross_entropy
    flops_per_example: float | None = None
    traced_hparams: tuple[str, ...] = field(
        default=("learning_rate", "momentum", "weight_decay", "init_scale"), init=False)

    def __post_init__(self):
        if (self.factory is None) == (self.model is None):
            raise ValueError("factory, model: expected exactly one of them, found "
                             f"{'both' if self.factory is not None else 'neither'}.")
        if self.factory is not None and not callable(self.factory):
            raise ValueError(f"factory: expected a function key -> model, found "
                             f"{type(self.factory).__name__}.")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer: expected one of {OPTIMIZERS}, found {self.optimizer!r}.")

    @cached_property
    def template(self) -> Model:
        """The model contract of the factory's model at key 0 (or of ``model``).

        Raises:
          ValueError: the factory fails on a key, or returns no model, saying what it did.
        """
        if self.model is not None:
            return as_model(self.model)
        try:
            built = self.factory(jax.random.key(0))
        except Exception as e:  # the user's function, called as the contract says
            raise ValueError(f"factory: expected a function key -> model, but calling it with "
                             f"a jax.random key raised {type(e).__name__}: {e}") from e
        return as_model(built)

    @property
    def name(self) -> str:
        return self.template.name

    @cached_property
    def num_params(self) -> int:
        return sum(int(np.size(leaf)) for leaf in jax.tree.leaves(self.template.params))

    def step_flops(self, batch_size: int) -> float:
        per_example = self.flops_per_example or 6 * self.num_params
        return batch_size * per_example

    def init(self, key: jax.Array, hp: HParams) -> tuple[Any, State]:
        if self.model is not None:
            params, state = self.template.params, self.template.state
        else:
            built = as_model(self.factory(key))
            params, state = built.params, built.state
        params = jax.tree.map(lambda p: p * hp["init_scale"] if jnp.ndim(p) >= 2 else p, params)
        return params, state

    def loss(self, params: Any, state: State, x: jax.Array, y: jax.Array,
             key: jax.Array | None, hp: HParams) -> tuple[jax.Array, State]:
        logits, state = self.template.apply(params, state, x, key, True)
        return self.loss_fn(logits, y), state

    def logits(self, params: Any, state: State, x: jax.Array) -> jax.Array:
        return self.template.logits(params, state, x)

    def tx(self, hp: HParams) -> optax.GradientTransformation:
        return injected_tx(self.optimizer, hp)

    def uses_key(self, dropout: Any) -> bool:
        return True  # the model's own dropout, if any, needs masks


def nnx_factory(cls: type[nnx.Module], *args: Any, **kwargs: Any) -> Callable[[jax.Array], Any]:
    """``key -> cls(*args, **kwargs, rngs=nnx.Rngs(key))``: the factory of an NNX class."""

    def factory(key: jax.Array) -> nnx.Module:
        return cls(*args, **kwargs, rngs=nnx.Rngs(key))

    return factory
