"""Shared fixtures: run a test in float32 or float64 mode with the matching tolerance."""

import jax
import pytest


@pytest.fixture(params=["float32", "float64"])
def tolerance(request):
    """Enter JAX's float32 or float64 mode for the test; yields the agreed tolerance."""
    with jax.enable_x64(request.param == "float64"):
        yield 1e-5 if request.param == "float32" else 1e-6
