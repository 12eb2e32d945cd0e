"""Activation functions by name, as configs spell them."""

from collections.abc import Callable

import jax

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "relu": jax.nn.relu,
    "tanh": jax.nn.tanh,
    "sigmoid": jax.nn.sigmoid,
    "gelu": jax.nn.gelu,
    "elu": jax.nn.elu,
}


def activation(name: str) -> Callable[[jax.Array], jax.Array]:
    """The activation called ``name``; ValueError naming the choices otherwise."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation: expected one of {sorted(ACTIVATIONS)}, found {name!r}.")
    return ACTIVATIONS[name]
