"""Multi-layer perceptron, the tabular and small-image baseline."""

import itertools
import math
from collections.abc import Sequence

import jax
from flax import nnx

from jaxdiag.models.activations import activation


class MLP(nnx.Module):
    """Flattens its input, then Dense layers ``dense_0 .. dense_L`` with an activation between.

    Args:
      input_shape: shape of one example, e.g. (64,) or (8, 8, 1).
      num_classes: width of the output logits.
      hidden: widths of the hidden layers.
      activation_name: a name from ``jaxdiag.models.ACTIVATIONS``.
      rngs: NNX random streams for the initialization.

    Call: x float array of shape (batch, *input_shape) -> logits of shape (batch, num_classes).
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        *,
        hidden: Sequence[int] = (128, 128),
        activation_name: str = "relu",
        rngs: nnx.Rngs,
    ):
        self.act = activation(activation_name)
        widths = [math.prod(input_shape), *hidden, num_classes]
        self.num_layers = len(widths) - 1
        for i, (w_in, w_out) in enumerate(itertools.pairwise(widths)):
            setattr(self, f"dense_{i}", nnx.Linear(w_in, w_out, rngs=rngs))

    def __call__(self, x: jax.Array) -> jax.Array:
        x = x.reshape(x.shape[0], -1)
        for i in range(self.num_layers):
            x = getattr(self, f"dense_{i}")(x)
            if i < self.num_layers - 1:
                x = self.act(x)
        return x
