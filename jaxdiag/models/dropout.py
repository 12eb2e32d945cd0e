"""Dropout whose rate is carried state, so that a population traces it per member."""

import jax
import jax.numpy as jnp
from flax import nnx


class DropoutRate(nnx.Variable):
    """A dropout rate in [0, 1): model state (not a Param), which
    ``jaxdiag.search.ModelTask`` replaces by each member's traced ``dropout``."""


class Dropout(nnx.Module):
    """Inverted dropout, like ``nnx.Dropout``, with its rate a ``DropoutRate`` variable.

    Args:
      rate: the probability of dropping a unit, in [0, 1).
      rngs: NNX random streams; masks come from the ``dropout`` stream.

    Call: x -> x with each entry zeroed with probability ``rate`` and the rest scaled by
    ``1 / (1 - rate)`` in training; x as it is under ``nnx.view(model, deterministic=True)``.
    """

    def __init__(self, rate: float, *, rngs: nnx.Rngs):
        if not 0 <= rate < 1:
            raise ValueError(f"rate: expected a value in [0, 1), found {rate!r}.")
        self.rate = DropoutRate(jnp.asarray(rate, jnp.float32))
        self.deterministic = False
        self.rngs = rngs["dropout"].fork()

    def __call__(self, x: jax.Array) -> jax.Array:
        if self.deterministic:
            return x
        keep = 1.0 - self.rate[...]
        mask = jax.random.bernoulli(self.rngs(), keep, x.shape)
        return jnp.where(mask, x / keep, 0.0)

    def set_view(self, deterministic: bool | None = None) -> None:
        """Used by ``nnx.view``: ``deterministic=True`` turns the masks off."""
        if deterministic is not None:
            self.deterministic = deterministic
