"""What a model costs in memory, known before a byte of it is allocated."""

import os
from collections.abc import Callable
from typing import Any

import jax

# Copies of the parameters that training holds at once: the parameters, their gradient,
# Adam's two moments, the checkpoint being written, the float64 gradient check's two and the
# data diagnoses' populations; a floor, not a bound.
TRAINING_COPIES = 8


def parameter_bytes(make_params: Callable[[], Any]) -> int:
    """Bytes of the parameter pytree that ``make_params()`` builds, from its abstract shapes
    (``jax.eval_shape``: nothing is allocated). For a Flax NNX model:
    ``lambda: nnx.state(Model(...), nnx.Param)``."""
    return sum(leaf.size * leaf.dtype.itemsize
               for leaf in jax.tree.leaves(jax.eval_shape(make_params)))


def memory_available() -> int:
    """Bytes the default device can hold: an accelerator's memory limit, or the host's
    physical memory on the CPU."""
    device = jax.devices()[0]
    stats = device.memory_stats() if device.platform != "cpu" else None
    if stats and "bytes_limit" in stats:
        return int(stats["bytes_limit"])
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def require_fits(key: str, parameter_nbytes: int, available: int | None = None) -> None:
    """Raises ``ValueError`` naming config ``key`` when training a model of
    ``parameter_nbytes`` of parameters needs more than ``available`` bytes (default:
    ``memory_available()``)."""
    available = memory_available() if available is None else available
    needed = TRAINING_COPIES * parameter_nbytes
    if needed > available:
        raise ValueError(
            f"config key {key!r}: expected a model whose training fits in memory, found "
            f"{parameter_nbytes / 2**30:.3g} GiB of parameters, so at least "
            f"{needed / 2**30:.3g} GiB to train ({TRAINING_COPIES} copies) against "
            f"{available / 2**30:.3g} GiB on {jax.devices()[0].platform}.")
