"""Running sums along the last axis as blocked triangular matmuls.

XLA's CPU cumulative sum of a (64, 1e5) float32 array takes about 3x as long as the same sums
done as a (block x block) upper-triangular matmul inside blocks plus a running sum of the block
totals (0.10 s against 0.034 s for blocks of 32 on two cores); on accelerators the matmul runs on
the matrix units. Used where many rows of weights are summed at once (bootstrap resamples).
"""

import jax
import jax.numpy as jnp

BLOCK = 32


def prefix_sum(x: jax.Array, block: int = BLOCK) -> jax.Array:
    """``jnp.cumsum(x, axis=-1)`` of a float array of any shape (..., n).

    Exact for integer-valued float32 (bootstrap counts) while every running sum stays below
    2**24; otherwise within float rounding of ``jnp.cumsum``.
    """
    n = x.shape[-1]
    pad = -n % block
    rows = jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, pad)]).reshape(*x.shape[:-1], -1, block)
    within = rows @ jnp.triu(jnp.ones((block, block), x.dtype))
    totals = within[..., -1]
    offsets = jnp.cumsum(totals, axis=-1) - totals
    return (within + offsets[..., None]).reshape(*x.shape[:-1], -1)[..., :n]
