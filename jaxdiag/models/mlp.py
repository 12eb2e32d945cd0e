"""Multi-layer perceptron, the tabular and small-image baseline."""

from collections.abc import Sequence

import jax
from flax import nnx

from jaxdiag.models.dense import Dense
from jaxdiag.models.trunk import Trunk


class MLP(Trunk):
    """Flattens its input, then ``Dense`` layers ``dense_0 .. dense_L`` with an activation
    between: a ``Trunk`` of the hidden widths with the output layer ``dense_L``. Its layers
    keep vmapped populations fast on CPUs (``stored_transpose_dense``).

    Args:
      input_shape: shape of one example, e.g. (64,) or (8, 8, 1).
      num_classes: width of the output logits.
      hidden: widths of the hidden layers (may be empty: a linear model).
      activation_name: a name from ``jaxdiag.models.ACTIVATIONS``.
      dropout: None, or the rate of a ``Dropout`` after every hidden layer (traced per member
        by a population).
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
        dropout: float | None = None,
        rngs: nnx.Rngs,
    ):
        super().__init__(input_shape, hidden=hidden, activation_name=activation_name,
                         dropout=dropout, rngs=rngs)
        width = hidden[-1] if hidden else self.input_width
        setattr(self, f"dense_{len(hidden)}", Dense(width, num_classes, rngs=rngs))

    def __call__(self, x: jax.Array) -> jax.Array:
        return getattr(self, f"dense_{self.num_layers}")(self.features(x))
