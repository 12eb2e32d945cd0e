"""Layer outputs of a Flax model, captured without changing its code, and what follows them.

NNX modules are run under ``nnx.capture`` with every method's output sown; Linen modules with
``capture_intermediates``. Each layer is then matched, by reading the traced program, with the
activation function applied to its output (ReLU, tanh or sigmoid), so that dead units and
saturation are measured against the right function.
"""

from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
from flax import nnx

from jaxdiag.models import functional

Layers = dict[str, jax.Array]
CaptureFn = Callable[[Any, jax.Array], tuple[jax.Array, Layers]]


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


def nnx_capture(module: nnx.Module) -> tuple[CaptureFn, Any]:
    """``(apply_with_layers, params)`` for an NNX module.

    Returns:
      ``apply_with_layers(params, x) -> (y, {layer path: output})`` (jit-compatible) and the
      module's parameters as a pure dict, as ``jaxdiag.models.functional`` returns them.
    """
    graphdef, state = nnx.split(module)

    def apply_with_layers(params, x):
        model = nnx.merge(graphdef, params)
        y, sown = nnx.capture(model, nnx.Intermediate, method_outputs=nnx.Intermediate)(x)
        return y, _flat_names(nnx.to_pure_dict(sown), "__call__")

    return apply_with_layers, nnx.to_pure_dict(state)


def linen_capture(module: nn.Module) -> CaptureFn:
    """``apply_with_layers(variables, x) -> (y, {layer path: output})`` for a Linen module."""

    def apply_with_layers(variables, x):
        y, state = module.apply(variables, x, capture_intermediates=True,
                                mutable=["intermediates"])
        return y, _flat_names(state["intermediates"], "__call__")

    return apply_with_layers


def _activation_of(eqn) -> str | None:
    name = eqn.primitive.name
    if name == "tanh":
        return "tanh"
    if name == "logistic":
        return "sigmoid"
    if name == "custom_jvp_call":
        info = eqn.params["call_jaxpr"].jaxpr.debug_info
        source = getattr(info, "func_src_info", "") or ""
        return "relu" if source.startswith("relu") else None
    if name == "max" and any(getattr(v, "val", None) == 0 for v in eqn.invars):
        return "relu"
    return None


def activation_kinds(apply_with_layers: CaptureFn, params: Any, x: jax.Array) -> dict[str, str]:
    """{layer path: "relu" | "tanh" | "sigmoid" | "none"}: the function applied to each output.

    Found by tracing ``apply_with_layers`` once; nothing is computed.
    """
    closed = jax.make_jaxpr(apply_with_layers)(params, x)
    _, layers_shape = jax.eval_shape(apply_with_layers, params, x)
    names = list(layers_shape)  # the order of the flattened dict output
    layer_vars = closed.jaxpr.outvars[-len(names):] if names else []
    consumer = {}
    for eqn in closed.jaxpr.eqns:
        kind = _activation_of(eqn)
        if kind:
            for v in eqn.invars:
                consumer.setdefault(id(v), kind)
    return {name: consumer.get(id(v), "none")
            for name, v in zip(sorted(names), layer_vars, strict=True)}


def capture_model(model: Any) -> tuple[Callable[[Any, jax.Array], jax.Array], Any, CaptureFn]:
    """``(apply_fn, params, apply_with_layers)`` for any model jaxdiag trains and monitors.

    Args:
      model: a Flax NNX module; a pair ``(linen_module, variables)``; or a pair
        ``(apply_fn, params)`` of a plain function ``apply_fn(params, x) -> logits`` and its
        parameter pytree. A plain function shows no layers: its ``apply_with_layers``
        returns no layer outputs, so only its gradients are monitored.

    Raises:
      ValueError: anything else, naming what was found.
    """
    if isinstance(model, nnx.Module):
        apply_fn, params = functional(model)
        return apply_fn, params, nnx_capture(model)[0]
    if isinstance(model, tuple) and len(model) == 2:
        first, params = model
        if isinstance(first, nn.Module):
            return first.apply, params, linen_capture(first)
        if callable(first):
            return first, params, lambda p, x: (first(p, x), {})
    raise ValueError("model: expected a flax.nnx.Module, a (flax.linen.Module, variables) pair "
                     f"or an (apply_fn, params) pair, found {type(model).__name__}.")
