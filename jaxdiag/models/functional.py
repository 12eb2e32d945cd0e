"""Flax NNX modules as a pure ``apply_fn(params, x)`` over a plain dict of arrays."""

from collections.abc import Callable
from typing import Any

import jax
from flax import nnx

Params = Any  # a nested dict of arrays
ApplyFn = Callable[[Params, jax.Array], jax.Array]


def functional(module: nnx.Module) -> tuple[ApplyFn, Params]:
    """Splits an NNX module into a pure function and its parameters.

    Returns:
      ``(apply_fn, params)``: ``params`` is a nested dict of arrays keyed by attribute names
      (e.g. ``{"dense_0": {"kernel": ..., "bias": ...}}``), and ``apply_fn(params, x)``
      returns what ``module(x)`` does. Both are jit-, grad- and vmap-compatible.
    """
    graphdef, state = nnx.split(module)

    def apply_fn(params: Params, x: jax.Array) -> jax.Array:
        return nnx.merge(graphdef, params)(x)

    return apply_fn, nnx.to_pure_dict(state)
