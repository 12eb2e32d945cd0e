"""Floor 1: the model contract (any Flax NNX, Linen or plain model as one pure function of
its params and state) and the built-in baseline models."""

from collections.abc import Sequence

import jax
from flax import nnx

from jaxdiag.models.activations import ACTIVATIONS, activation
from jaxdiag.models.cnn import LeNet
from jaxdiag.models.contract import (
    ApplyFn,
    CaptureFn,
    Layers,
    Model,
    ModelFn,
    Params,
    State,
    as_model,
    capture_layers,
    functional,
)
from jaxdiag.models.dense import Dense, stored_transpose_dense
from jaxdiag.models.dropout import Dropout, DropoutRate
from jaxdiag.models.mlp import MLP
from jaxdiag.models.trunk import ConvTrunk, Trunk

MODEL_NAMES = ("mlp", "cnn")


def build_model(
    name: str,
    input_shape: Sequence[int],
    num_classes: int,
    *,
    hidden: Sequence[int] = (128, 128),
    channels: Sequence[int] = (16, 32),
    activation_name: str = "relu",
    seed: int | jax.Array = 0,
) -> nnx.Module:
    """The baseline called ``name``, initialized from ``seed`` (an int or a key): "mlp" (dense
    layers of the ``hidden`` widths) or "cnn" (``LeNet``: convolutions of ``channels``, then
    a dense layer of ``hidden[-1]``)."""
    rngs = nnx.Rngs(seed)
    if name == "mlp":
        return MLP(input_shape, num_classes, hidden=hidden, activation_name=activation_name,
                   rngs=rngs)
    if name == "cnn":
        return LeNet(input_shape, num_classes, channels=channels, dense=hidden[-1],
                     activation_name=activation_name, rngs=rngs)
    raise ValueError(f"model name: expected one of {MODEL_NAMES}, found {name!r}.")


__all__ = [
    "ACTIVATIONS",
    "MLP",
    "MODEL_NAMES",
    "ApplyFn",
    "CaptureFn",
    "ConvTrunk",
    "Dense",
    "Dropout",
    "DropoutRate",
    "Layers",
    "LeNet",
    "Model",
    "ModelFn",
    "Params",
    "State",
    "Trunk",
    "activation",
    "as_model",
    "build_model",
    "capture_layers",
    "functional",
    "stored_transpose_dense",
]
