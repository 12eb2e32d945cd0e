"""A LeNet-like convolutional network for small images."""

from collections.abc import Sequence

import jax
from flax import nnx

from jaxdiag.models.activations import activation


class LeNet(nnx.Module):
    """conv 3x3 -> act -> avg-pool 2 -> conv 3x3 -> act -> avg-pool 2 -> dense -> act -> dense.

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
        if len(input_shape) != 3 or min(input_shape[:2]) < 4:
            raise ValueError(
                "input_shape: expected images (h, w, c) with h, w >= 4, "
                f"found {tuple(input_shape)}."
            )
        h, w, c = input_shape
        self.act = activation(activation_name)
        self.conv_0 = nnx.Conv(c, channels[0], kernel_size=(3, 3), rngs=rngs)
        self.conv_1 = nnx.Conv(channels[0], channels[1], kernel_size=(3, 3), rngs=rngs)
        flat = (h // 4) * (w // 4) * channels[1]
        self.dense_0 = nnx.Linear(flat, dense, rngs=rngs)
        self.dense_1 = nnx.Linear(dense, num_classes, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = nnx.avg_pool(self.act(self.conv_0(x)), window_shape=(2, 2), strides=(2, 2))
        x = nnx.avg_pool(self.act(self.conv_1(x)), window_shape=(2, 2), strides=(2, 2))
        x = self.act(self.dense_0(x.reshape(x.shape[0], -1)))
        return self.dense_1(x)
