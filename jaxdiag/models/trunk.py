"""Shared trunks of multi-task and transfer models: an MLP or a small CNN, every layer activated."""

import itertools
import math
from collections.abc import Sequence

import jax
from flax import nnx

from jaxdiag.models.activations import activation
from jaxdiag.models.dense import Dense
from jaxdiag.models.dropout import Dropout


class Trunk(nnx.Module):
    """Flattens its input, then ``Dense`` layers ``dense_0 .. dense_{L-1}``, each activated
    (and followed by ``dropout_i`` when ``dropout`` is given).

    Args:
      input_shape: shape of one example, e.g. (64,) or (8, 8, 1).
      hidden: widths of the layers; the features are ``hidden[-1]`` wide (the input's when
        empty).
      activation_name: a name from ``jaxdiag.models.ACTIVATIONS``.
      dropout: None (no dropout layers), or the rate of a ``jaxdiag.models.Dropout`` after
        every layer, which a population traces per member.
      rngs: NNX random streams for the initialization (and the dropout masks).

    Call (or ``features``): x float array of shape (batch, *input_shape) -> features
    (batch, hidden[-1]).
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        *,
        hidden: Sequence[int] = (128, 128),
        activation_name: str = "relu",
        dropout: float | None = None,
        rngs: nnx.Rngs,
    ):
        self.act = activation(activation_name)
        self.input_width = math.prod(input_shape)
        self.num_layers = len(hidden)
        self.has_dropout = dropout is not None
        for i, (w_in, w_out) in enumerate(itertools.pairwise([self.input_width, *hidden])):
            setattr(self, f"dense_{i}", Dense(w_in, w_out, rngs=rngs))
            if dropout is not None:
                setattr(self, f"dropout_{i}", Dropout(dropout, rngs=rngs))

    def features(self, x: jax.Array) -> jax.Array:
        x = x.reshape(x.shape[0], -1)
        for i in range(self.num_layers):
            x = self.act(getattr(self, f"dense_{i}")(x))
            if self.has_dropout:
                x = getattr(self, f"dropout_{i}")(x)
        return x

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.features(x)


class ConvTrunk(nnx.Module):
    """conv 3x3 -> act -> avg-pool 2 -> conv 3x3 -> act -> avg-pool 2 -> dense -> act: the
    LeNet-like CNN without its output layer.

    Args:
      input_shape: (h, w, c) of one image, h and w at least 4.
      channels: output channels of ``conv_0`` and ``conv_1``.
      dense: width of ``dense_0``, the features.
      activation_name: a name from ``jaxdiag.models.ACTIVATIONS``.
      rngs: NNX random streams for the initialization.

    Call (or ``features``): x float array (batch, h, w, c) -> features (batch, dense).
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        *,
        channels: Sequence[int] = (16, 32),
        dense: int = 64,
        activation_name: str = "relu",
        rngs: nnx.Rngs,
    ):
        if len(input_shape) != 3 or min(input_shape[:2]) < 4:
            raise ValueError(
                "input_shape: expected images (h, w, c) with h, w >= 4, "
                f"found {tuple(input_shape)}."
            )
        h, w, c = input_shape
        self.act = activation(activation_name)
        self.conv_0 = nnx.Conv(c, channels[0], kernel_size=(3, 3), rngs=rngs)
        self.conv_1 = nnx.Conv(channels[0], channels[1], kernel_size=(3, 3), rngs=rngs)
        self.dense_0 = nnx.Linear((h // 4) * (w // 4) * channels[1], dense, rngs=rngs)

    def features(self, x: jax.Array) -> jax.Array:
        x = nnx.avg_pool(self.act(self.conv_0(x)), window_shape=(2, 2), strides=(2, 2))
        x = nnx.avg_pool(self.act(self.conv_1(x)), window_shape=(2, 2), strides=(2, 2))
        return self.act(self.dense_0(x.reshape(x.shape[0], -1)))

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.features(x)
