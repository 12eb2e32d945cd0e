"""A shared trunk with named heads, as one pure ``apply(params, x) -> {task: logits}``."""

from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import jax
from flax import nnx

from jaxdiag.experiment.config import ModelConfig
from jaxdiag.models import ApplyFn, ConvTrunk, Params, Trunk, functional

TRUNK, HEADS = "trunk", "heads"


class MultiHeadModel(NamedTuple):
    """A trunk and its heads.

    Attributes:
      apply: ``apply(params, x) -> {task: logits}``; x (batch, ...) -> each head's logits,
        shape (batch, width) (width 1 is squeezed to (batch,)). jit-, grad- and
        vmap-compatible.
      params: {"trunk": trunk params, "heads": {task: {"kernel", "bias"}}}.
      trunk_layers: the trunk's top-level parameter names from input to output (for
        fine-tuning the last n layers).
      features: ``features(params, x)``: the trunk's output (batch, feature_width), what every
        head reads (and what domain adaptation aligns).
    """

    apply: Callable[[Params, jax.Array], dict[str, jax.Array]]
    params: Params
    trunk_layers: tuple[str, ...]
    features: Callable[[Params, jax.Array], jax.Array] | None = None


def multihead_model(
    trunk_apply: ApplyFn,
    trunk_params: Params,
    feature_width: int,
    head_widths: Mapping[str, int],
    seed: int = 0,
    trunk_layers: Sequence[str] | None = None,
) -> MultiHeadModel:
    """Puts a fresh linear head per task on top of any trunk.

    Args:
      trunk_apply: ``(trunk_params, x) -> features`` of shape (batch, feature_width): a Flax
        NNX module made pure with ``jaxdiag.models.functional``, a Linen ``module.apply``, or
        any function.
      trunk_params: its parameters, a pytree whose top-level keys are its layers.
      feature_width: width of the features.
      head_widths: {task: number of logits}: C for a C-class task, k for k binary labels.
      seed: initializes the heads (head i from ``fold_in(jax.random.key(seed), i)``).
      trunk_layers: the trunk's layer names from input to output (default: the top-level keys
        of ``trunk_params`` in their order).
    """
    heads, head_params = {}, {}
    for i, (name, width) in enumerate(head_widths.items()):
        rngs = nnx.Rngs(jax.random.fold_in(jax.random.key(seed), i))
        heads[name], head_params[name] = functional(nnx.Linear(feature_width, width, rngs=rngs))

    def features(params: Params, x: jax.Array) -> jax.Array:
        return trunk_apply(params[TRUNK], x)

    def apply(params: Params, x: jax.Array) -> dict[str, jax.Array]:
        shared = features(params, x)
        outputs = {name: head(params[HEADS][name], shared) for name, head in heads.items()}
        return {name: out[:, 0] if out.shape[-1] == 1 else out for name, out in outputs.items()}

    layers = tuple(trunk_layers) if trunk_layers is not None else tuple(trunk_params)
    return MultiHeadModel(apply, {TRUNK: trunk_params, HEADS: head_params}, layers, features)


def configured_multihead_model(
    config: ModelConfig,
    input_shape: Sequence[int],
    head_widths: Mapping[str, int],
    seed: int = 0,
) -> MultiHeadModel:
    """``multihead_model`` on the ``Trunk`` (MLP) or ``ConvTrunk`` (CNN) that ``config`` names,
    initialized from ``seed`` (the heads from ``seed + 1``)."""
    rngs = nnx.Rngs(seed)
    if config.name == "cnn":
        trunk: nnx.Module = ConvTrunk(input_shape, channels=config.channels,
                                      dense=config.hidden[-1],
                                      activation_name=config.activation, rngs=rngs)
        layers = ["conv_0", "conv_1", "dense_0"]
    else:
        trunk = Trunk(input_shape, hidden=config.hidden, activation_name=config.activation,
                      rngs=rngs)
        layers = [f"dense_{i}" for i in range(len(config.hidden))]
    trunk_apply, trunk_params = functional(trunk)
    return multihead_model(trunk_apply, trunk_params, config.hidden[-1], head_widths, seed + 1,
                           layers)
