"""Counter-based minibatch indices: which examples a member trains on at each step."""

import jax
import jax.numpy as jnp


def _mix(x: jax.Array) -> jax.Array:
    """MurmurHash3's 32-bit finalizer: a bijection of uint32 with full avalanche."""
    x = x ^ (x >> 16)
    x = x * jnp.uint32(0x85EBCA6B)
    x = x ^ (x >> 13)
    x = x * jnp.uint32(0xC2B2AE35)
    return x ^ (x >> 16)


def minibatch_indices(seed: jax.Array, steps: jax.Array, batch_size: int,
                      n: int | jax.Array) -> jax.Array:
    """int32 (len(steps), batch_size): the positions (drawn with replacement from ``n``, which
    may be traced) that a member with ``seed`` trains on at each of ``steps``.

    A counter-based hash of (seed, step, position), elementwise: it depends on nothing else, so
    a member sees the same batches alone, in any population and after a resume; and unlike a
    ``jax.random`` draw per step under ``vmap`` it costs nothing to compile.
    """
    position = jnp.arange(batch_size, dtype=jnp.uint32)
    step = jnp.asarray(steps).astype(jnp.uint32)[:, None]
    seed = jnp.asarray(seed).astype(jnp.uint32)
    h = _mix(_mix(_mix(position + jnp.uint32(0x9E3779B9)) ^ (step * jnp.uint32(0x85EBCA77)))
             ^ (seed * jnp.uint32(0xC2B2AE3D)))
    return (h % jnp.asarray(n).astype(jnp.uint32)).astype(jnp.int32)
