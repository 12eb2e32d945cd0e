"""Which activation function follows each layer of a model, read from its traced program.

The model contract (``jaxdiag.models.as_model``) captures every layer's output: NNX modules
under ``nnx.capture`` with every method's output sown, Linen modules with
``capture_intermediates``. Each layer is then matched, by reading the traced program, with the
activation function applied to its output (ReLU, tanh or sigmoid), so that dead units and
saturation are measured against the right function. Where a function cannot be recognized
(a custom-VJP activation), ``declared`` names it.
"""

from collections.abc import Mapping

import jax

from jaxdiag.models import Model

KINDS = ("relu", "tanh", "sigmoid", "none")


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


def activation_kinds(model: Model, x: jax.Array,
                     declared: Mapping[str, str] | None = None) -> dict[str, str]:
    """{layer path: "relu" | "tanh" | "sigmoid" | "none"}: the function applied to each
    layer's output, found by tracing ``model.capture`` once in evaluation mode (nothing is
    computed); ``declared`` {layer path: kind} overrides what is found.

    Raises:
      ValueError: a declared layer the model does not have, or an unknown kind.
    """
    closed = jax.make_jaxpr(lambda p, s, x: model.capture(p, s, x, None, False))(
        model.params, model.state, x)
    layers_shape = jax.eval_shape(lambda p, s, x: model.capture(p, s, x, None, False)[2],
                                  model.params, model.state, x)
    names = list(layers_shape)  # the order of the flattened dict output
    layer_vars = closed.jaxpr.outvars[-len(names):] if names else []
    consumer = {}
    for eqn in closed.jaxpr.eqns:
        kind = _activation_of(eqn)
        if kind:
            for v in eqn.invars:
                consumer.setdefault(id(v), kind)
    kinds = {name: consumer.get(id(v), "none")
             for name, v in zip(sorted(names), layer_vars, strict=True)}
    for name, kind in (declared or {}).items():
        if name not in kinds:
            raise ValueError(f"declared: expected layers among {sorted(kinds)}, found {name!r}.")
        if kind not in KINDS:
            raise ValueError(f"declared[{name!r}]: expected one of {KINDS}, found {kind!r}.")
        kinds[name] = kind
    return kinds
