"""Any model of the model contract as a population's member: the researcher's own model.

A ``ModelTask`` holds a factory ``key -> model`` (a Flax NNX module, a ``(linen_module,
variables)`` pair or an ``(apply_fn, params)`` pair) or one model whose weights every member
starts from. Members train the model's softmax cross-entropy (or the task's ``loss``) with an
optax optimizer whose learning rate, momentum and weight decay are traced per member; BatchNorm
statistics and dropout RNG state are each member's own carried state.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from jaxdiag.experiment.config import OPTIMIZERS
from jaxdiag.models import Model, as_model
from jaxdiag.models.activations import activation as activation_fn
from jaxdiag.models.dropout import Dropout, DropoutRate
from jaxdiag.models.mlp import MLP
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
    initial weights of rank >= 2); and dropout, when the NNX model's dropout layers are
    ``jaxdiag.models.Dropout`` (whose rate is state: each member's replaces it). ``nnx.Dropout``'s
    rate is a static attribute: vary it with one task per value.
    """

    factory: Callable[[jax.Array], Any] | None = None
    model: Any = None
    optimizer: str = "adam"
    loss_fn: LossOfLogits = _cross_entropy
    flops_per_example: float | None = None

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
    def _built(self) -> Any:
        """The factory's model at key 0, or ``model``.

        Raises:
          ValueError: the factory fails on a key, saying what it raised.
        """
        if self.model is not None:
            return self.model
        try:
            return self.factory(jax.random.key(0))
        except Exception as e:  # the user's function, called as the contract says
            raise ValueError(f"factory: expected a function key -> model, but calling it with "
                             f"a jax.random key raised {type(e).__name__}: {e}") from e

    @cached_property
    def template(self) -> Model:
        """The model contract of the factory's model at key 0 (or of ``model``).

        Raises:
          ValueError: the factory fails on a key, or returns no model, saying what it did.
        """
        return as_model(self._built)

    @cached_property
    def _rate_paths(self) -> frozenset:
        """Key paths of the ``DropoutRate`` leaves in the model's state."""
        if not isinstance(self._built, nnx.Module):
            return frozenset()
        rates = nnx.to_pure_dict(nnx.state(self._built, DropoutRate))
        return frozenset(path for path, _ in jax.tree_util.tree_flatten_with_path(rates)[0])

    @property
    def traced_hparams(self) -> tuple[str, ...]:
        base = ("learning_rate", "momentum", "weight_decay", "init_scale")
        return (*base, "dropout") if self._rate_paths else base

    def _with_rates(self, state: State, hp: HParams) -> State:
        """``state`` with every dropout rate set to the member's ``hp["dropout"]``."""
        if not self._rate_paths:
            return state
        return jax.tree_util.tree_map_with_path(
            lambda path, v: jnp.asarray(hp["dropout"], v.dtype) if path in self._rate_paths
            else v, state)

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
        return params, self._with_rates(state, hp)

    def loss(self, params: Any, state: State, x: jax.Array, y: jax.Array,
             key: jax.Array | None, hp: HParams) -> tuple[jax.Array, State]:
        logits, state = self.template.apply(params, state, x, key, True)
        return self.loss_fn(logits, y), state

    def logits(self, params: Any, state: State, x: jax.Array) -> jax.Array:
        return self.template.logits(params, state, x)

    def tx(self, hp: HParams) -> optax.GradientTransformation:
        return injected_tx(self.optimizer, hp)

    def uses_key(self, dropout: Any) -> bool:
        """Whether training draws masks: always for a model with RNG streams of its own, but
        for the built-in dropout only when some member drops units."""
        if self._rate_paths and not self._other_rngs:
            return bool((dropout > 0).any())
        return True

    @cached_property
    def _other_rngs(self) -> bool:
        """Whether the model draws random numbers other than ``jaxdiag.models.Dropout``'s."""
        if not isinstance(self._built, nnx.Module):
            return True
        nodes = list(nnx.iter_graph(self._built))
        ours = {path for path, node in nodes if isinstance(node, Dropout)}
        return any(isinstance(node, nnx.RngStream) and tuple(path[:-1]) not in ours
                   for path, node in nodes)


def nnx_factory(cls: type[nnx.Module], *args: Any, **kwargs: Any) -> Callable[[jax.Array], Any]:
    """``key -> cls(*args, **kwargs, rngs=nnx.Rngs(key))``: the factory of an NNX class."""

    def factory(key: jax.Array) -> nnx.Module:
        return cls(*args, **kwargs, rngs=nnx.Rngs(key))

    return factory


@functools.cache
def mlp_task(input_shape: tuple[int, ...], num_classes: int, *,
             hidden: tuple[int, ...] = (64, 64), optimizer: str = "sgd",
             activation: str = "relu", dropout: bool = False) -> ModelTask:
    """The built-in MLP (``jaxdiag.models.MLP``: ``hidden`` widths, ``activation``) as a
    population's member, each member from its own key; with ``dropout`` its hidden layers are
    followed by ``jaxdiag.models.Dropout``, whose rate each member traces. The same arguments
    give the same task, so its compiled programs are reused.

    Raises:
      ValueError: a shape, width, optimizer or activation that is not one, naming it.
    """
    for name, values in (("input_shape", input_shape), ("hidden", hidden)):
        if not all(isinstance(v, int) and v > 0 for v in values):
            raise ValueError(f"{name}: expected positive integers, found {values!r}.")
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes: expected a positive integer, found {num_classes!r}.")
    activation_fn(activation)  # raises ValueError naming the choices
    return ModelTask(nnx_factory(MLP, tuple(input_shape), num_classes, hidden=tuple(hidden),
                                 activation_name=activation, dropout=0.0 if dropout else None),
                     optimizer=optimizer)
