"""The model contract: any model jaxdiag trains, as one pure function of its whole state.

A Flax NNX module, a Linen module with its variables, or a plain ``apply_fn(params, x)`` with
its params all become a ``Model``:

    apply(params, state, x, key, train) -> (logits, new_state)

``params`` are the differentiated leaves only (``nnx.Param``; Linen's "params" collection).
``state`` is everything else the model carries: BatchNorm's running statistics, dropout's RNG
counts, any other collection. In training (``train=True``) BatchNorm normalizes with the batch
and updates its statistics, dropout draws its masks from ``key``; in evaluation
(``train=False``, ``key`` may be None) BatchNorm uses its running statistics, dropout is off,
and ``new_state`` equals ``state``. Every function is pure, so jit, grad and vmap (a population
of K models) apply to it as to any JAX function.
"""

import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

import flax.linen as nn
import jax
from flax import nnx

Params = Any  # a pytree of float arrays: what the optimizer updates
State = Any  # a pytree of arrays carried along: batch statistics, RNG counts
ApplyFn = Callable[[Params, jax.Array], jax.Array]
ModelFn = Callable[[Params, State, jax.Array, jax.Array | None, bool], tuple[jax.Array, State]]
Layers = dict[str, jax.Array]
CaptureFn = Callable[[Params, State, jax.Array, jax.Array | None, bool],
                     tuple[jax.Array, State, Layers]]

# Linen call arguments that switch training on (True) or off (False), and their value in training.
_LINEN_TRAIN_FLAGS = {"train": True, "training": True, "is_training": True,
                      "deterministic": False, "use_running_average": False}


class Model(NamedTuple):
    """A model as pure functions and the arrays they take.

    Attributes:
      apply: ``(params, state, x, key, train) -> (logits, new_state)``; x (batch, ...) gives
        logits (batch, classes). ``train`` must be a Python bool (it is static under jit).
      params: the differentiated leaves, a pytree of float arrays (pure dicts for Flax).
      state: the carried leaves (pure dicts for Flax; ``{}`` when there are none).
      capture: like ``apply``, also returning ``{layer path: output}`` of every layer it can
        see (none for a plain function), for the monitor.
      name: the model's class (or function) name, for reports.
    """

    apply: ModelFn
    params: Params
    state: State
    capture: CaptureFn
    name: str

    def logits(self, params: Params, state: State, x: jax.Array) -> jax.Array:
        """The evaluation-mode logits of x: no dropout, BatchNorm's running statistics."""
        return self.apply(params, state, x, None, False)[0]


def as_model(model: Any) -> Model:
    """The ``Model`` of a Flax NNX module, a ``(linen_module, variables)`` pair, an
    ``(apply_fn, params)`` pair of a plain ``apply_fn(params, x) -> logits``, or a ``Model``.

    NNX modules switch to training and evaluation with ``nnx.view`` (``deterministic`` and
    ``use_running_average``); their dropout masks come from ``key`` (every ``nnx.RngKey`` of
    the module is replaced by ``key`` folded with its position, so a step's masks depend only
    on the key the loop gives it). Linen modules get ``rngs={"dropout": key}`` and their
    train flag when ``__call__`` takes one of ``train``, ``training``, ``is_training``,
    ``deterministic`` or ``use_running_average``; their non-"params" collections are the state,
    mutable in training.

    Raises:
      ValueError: anything else, naming what was found.
    """
    if isinstance(model, Model):
        return model
    if isinstance(model, nnx.Module):
        return _nnx_model(model)
    if isinstance(model, tuple) and len(model) == 2:
        first, variables = model
        if isinstance(first, nn.Module):
            return _linen_model(first, variables)
        if callable(first):
            return _plain_model(first, variables)
    raise ValueError("model: expected a flax.nnx.Module, a (flax.linen.Module, variables) pair, "
                     "an (apply_fn, params) pair or a jaxdiag Model, found "
                     f"{type(model).__name__}.")


def _split(module: nnx.Module) -> tuple:
    """(graphdef, params, rng keys, the rest) of an NNX module, the states as pure dicts."""
    graphdef, *states = nnx.split(module, nnx.Param, nnx.RngKey, ...)
    return graphdef, *(nnx.to_pure_dict(s) for s in states)


def _flat_names(tree: Any, suffix: str) -> Layers:
    """{"dense_0": value} from {"dense_0": {suffix: (value,)}}; the root's output is dropped."""
    out = {}
    for path, value in jax.tree_util.tree_flatten_with_path(tree)[0]:
        names = [str(getattr(k, "key", getattr(k, "name", getattr(k, "idx", k)))) for k in path]
        if names[-2:] == [suffix, "0"]:  # a method's outputs are sown as a tuple
            names = names[:-2]
        if names:
            out["/".join(names)] = value
    return out


def capture_layers(module: nnx.Module, *args: Any, **kwargs: Any) -> tuple[Any, Layers]:
    """``(module(*args, **kwargs), {layer path: output})``: every submodule's output, sown
    without changing the module's code. Usable inside the user's own loss under
    ``nnx.value_and_grad`` or ``jax.jit``; the module is updated as by a plain call."""
    y, sown = nnx.capture(module, nnx.Intermediate, method_outputs=nnx.Intermediate)(
        *args, **kwargs)
    return y, _flat_names(nnx.to_pure_dict(sown), "__call__")


def _nnx_model(module: nnx.Module) -> Model:
    modes = {train: nnx.view(module, deterministic=not train, use_running_average=not train,
                             raise_if_not_found=False) for train in (True, False)}
    graphdefs = {train: nnx.split(view, nnx.Param, nnx.RngKey, ...)[0]
                 for train, view in modes.items()}
    _, params, rng_keys, state = _split(module)

    def merged(params, state, key, train):
        keys = rng_keys
        if key is not None:
            leaves, treedef = jax.tree.flatten(rng_keys)
            keys = jax.tree.unflatten(treedef, [jax.random.fold_in(key, i)
                                                for i in range(len(leaves))])
        return nnx.merge(graphdefs[train], params, keys, state)

    def apply(params, state, x, key, train):
        model = merged(params, state, key, train)
        y = model(x)
        return y, _split(model)[3]

    def capture(params, state, x, key, train):
        model = merged(params, state, key, train)
        y, layers = capture_layers(model, x)
        return y, _split(model)[3], layers

    return Model(apply, params, state, capture, type(module).__name__)


def _linen_train_kwargs(module: nn.Module, train: bool) -> dict:
    try:
        names = inspect.signature(type(module).__call__).parameters
    except (TypeError, ValueError):  # a builtin or C-implemented call
        return {}
    return {name: train == value for name, value in _LINEN_TRAIN_FLAGS.items() if name in names}


def _linen_model(module: nn.Module, variables: Any) -> Model:
    if not isinstance(variables, dict) or "params" not in variables:
        raise ValueError("model: expected Linen variables with a 'params' collection (what "
                         f"module.init returns), found {type(variables).__name__} with keys "
                         f"{sorted(variables) if isinstance(variables, dict) else None}.")
    params = variables["params"]
    state = {k: v for k, v in variables.items() if k not in ("params", "intermediates")}

    def call(params, state, x, key, train, extra_mutable=()):
        mutable = [*state, *extra_mutable] if train else list(extra_mutable)
        out = module.apply({"params": params, **state}, x,
                           rngs=None if key is None else {"dropout": key},
                           mutable=mutable or False, capture_intermediates=bool(extra_mutable),
                           **_linen_train_kwargs(module, train))
        y, updates = out if mutable else (out, {})
        return y, {**state, **{k: v for k, v in updates.items() if k in state}}, updates

    def apply(params, state, x, key, train):
        return call(params, state, x, key, train)[:2]

    def capture(params, state, x, key, train):
        y, new_state, updates = call(params, state, x, key, train, ("intermediates",))
        return y, new_state, _flat_names(updates.get("intermediates", {}), "__call__")

    return Model(apply, params, state, capture, type(module).__name__)


def _plain_model(apply_fn: ApplyFn, params: Params) -> Model:
    def apply(params, state, x, key, train):
        return apply_fn(params, x), state

    def capture(params, state, x, key, train):
        return apply_fn(params, x), state, {}

    return Model(apply, params, {}, capture, getattr(apply_fn, "__name__", "apply_fn"))


def functional(model: Any) -> tuple[ApplyFn, Params]:
    """``(apply_fn, params)``: ``apply_fn(params, x)`` is ``model``'s evaluation-mode logits
    with its state (BatchNorm statistics) held at their current values; for models that carry
    no state, what ``model(x)`` returns. Jit-, grad- and vmap-compatible."""
    pure = as_model(model)

    def apply_fn(params: Params, x: jax.Array) -> jax.Array:
        return pure.logits(params, pure.state, x)

    return apply_fn, pure.params
