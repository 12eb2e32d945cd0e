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


def class_balanced_indices(seed: jax.Array, steps: jax.Array, batch_size: int,
                           starts: jax.Array, counts: jax.Array) -> jax.Array:
    """int32 (len(steps), batch_size): positions, in an ordering of the examples by class, of
    class-balanced draws: each draw takes a class uniformly among those with examples, then one
    of its examples uniformly (with replacement).

    Args:
      seed, steps, batch_size: as for ``minibatch_indices`` (the draws hash the same counter
        through streams of their own).
      starts, counts: int (C,): where each class's examples begin in the ordering and how many
        there are (classes with none are never drawn); at least one count > 0.
    """
    counts = jnp.asarray(counts).astype(jnp.uint32)
    seed = jnp.asarray(seed).astype(jnp.uint32)
    present = jnp.argsort(counts == 0, stable=True)  # the classes with examples first
    pick = minibatch_indices(seed ^ jnp.uint32(0x3C6EF372), steps, batch_size,
                             jnp.sum(counts > 0))
    label = present[pick]
    within = minibatch_indices(seed ^ jnp.uint32(0xA54FF53A), steps, batch_size, 1 << 30)
    offset = within.astype(jnp.uint32) % counts[label]
    return (jnp.asarray(starts)[label] + offset.astype(jnp.int32)).astype(jnp.int32)


def class_layout(labels: jax.Array, classes: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The examples ordered by class, for ``class_balanced_indices``.

    Args:
      labels: int (n,): each example's class; a value outside [0, classes) (e.g. -1 for
        unlabelled, or a padding position) puts it after every class, never drawn.
      classes: C, static.

    Returns:
      (int (n,) positions ordered by class (stable), int (C,) where each class begins, int
      (C,) how many it has).
    """
    bucket = jnp.where((labels >= 0) & (labels < classes), labels, classes)
    counts = jnp.bincount(bucket, length=classes + 1)[:classes]
    return jnp.argsort(bucket, stable=True), jnp.cumsum(counts) - counts, counts
