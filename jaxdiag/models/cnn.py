"""A LeNet-like convolutional network for small images."""

from collections.abc import Sequence

import jax
from flax import nnx

from jaxdiag.models.trunk import ConvTrunk


class LeNet(ConvTrunk):
    """conv 3x3 -> act -> avg-pool 2 -> conv 3x3 -> act -> avg-pool 2 -> dense -> act -> dense:
    a ``ConvTrunk`` with the output layer ``dense_1``.

    Args:
      input_shape: (h, w, c) of one image, h and w at least 4.
      num_classes: width of the output logits.
      channels: output channels of the two convolutions.
      dense: width of the hidden dense layer.
      activation_name: a name from ``jaxdiag.models.ACTIVATIONS``.
      rngs: NNX random streams for the initialization.

    Call: x float array of shape (batch, h, w, c) -> logits of shape (batch, num_classes).

    References:
      LeCun et al. (1998), Gradient-based learning applied to document recognition.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        *,
        channels: Sequence[int] = (16, 32),
        dense: int = 64,
        activation_name: str = "relu",
        rngs: nnx.Rngs,
    ):
        super().__init__(input_shape, channels=channels, dense=dense,
                         activation_name=activation_name, rngs=rngs)
        self.dense_1 = nnx.Linear(dense, num_classes, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.dense_1(self.features(x))
