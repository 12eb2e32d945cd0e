"""Floor 1: small baseline models in Flax NNX, and their pure functional form."""

from collections.abc import Sequence

from flax import nnx

from jaxdiag.models.activations import ACTIVATIONS, activation
from jaxdiag.models.cnn import LeNet
from jaxdiag.models.functional import ApplyFn, Params, functional
from jaxdiag.models.mlp import MLP
from jaxdiag.models.trunk import ConvTrunk, Trunk

MODEL_NAMES = ("mlp", "cnn")


def build_model(
    name: str,
    input_shape: Sequence[int],
    num_classes: int,
    *,
    hidden: Sequence[int] = (128, 128),
    activation_name: str = "relu",
    seed: int = 0,
) -> nnx.Module:
    """The baseline called ``name`` ("mlp" or "cnn"), initialized from ``seed``."""
    rngs = nnx.Rngs(seed)
    if name == "mlp":
        return MLP(input_shape, num_classes, hidden=hidden, activation_name=activation_name,
                   rngs=rngs)
    if name == "cnn":
        return LeNet(input_shape, num_classes, activation_name=activation_name, rngs=rngs)
    raise ValueError(f"model name: expected one of {MODEL_NAMES}, found {name!r}.")


__all__ = [
    "ACTIVATIONS",
    "MLP",
    "MODEL_NAMES",
    "ApplyFn",
    "ConvTrunk",
    "LeNet",
    "Params",
    "Trunk",
    "activation",
    "build_model",
    "functional",
]
