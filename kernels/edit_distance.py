"""Batched Levenshtein distance over padded token arrays, one anti-diagonal per step."""

import jax
import jax.numpy as jnp
from jax import lax


def levenshtein(
    reference: jax.Array,
    reference_length: jax.Array,
    hypothesis: jax.Array,
    hypothesis_length: jax.Array,
) -> jax.Array:
    """Edit distance (substitutions, deletions, insertions, each costing 1) per pair.

    The dynamic program ``D[i, j]`` is swept along anti-diagonals ``i + j = d``: every cell of a
    diagonal depends only on the two diagonals before it, so each of the Lr + Lh steps is a few
    elementwise operations over all pairs and all reference positions at once.

    Args:
      reference: int array, shape (N, Lr): token ids, anything past each pair's length.
      reference_length: int array, shape (N,), values in [0, Lr].
      hypothesis: int array, shape (N, Lh).
      hypothesis_length: int array, shape (N,), values in [0, Lh].

    Returns:
      int32 array, shape (N,): ``D[reference_length, hypothesis_length]`` of each pair.
    """
    num_pairs, ref_width = reference.shape
    hyp_width = hypothesis.shape[1]
    rows = jnp.arange(ref_width + 1, dtype=jnp.int32)
    big = jnp.int32(ref_width + hyp_width + 1)
    # Column 0 of the reference never matches; hypothesis reversed and padded so that the tokens
    # hyp[d - 1 - i] for i = 0..Lr are one contiguous slice for every diagonal d.
    ref_tokens = jnp.pad(reference.astype(jnp.int32), ((0, 0), (1, 0)), constant_values=-1)
    hyp_reversed = jnp.pad(hypothesis.astype(jnp.int32)[:, ::-1],
                           ((0, 0), (ref_width + 1, ref_width + 1)), constant_values=-2)
    reference_length = reference_length.astype(jnp.int32)
    target = reference_length + hypothesis_length.astype(jnp.int32)

    def shifted(diagonal):  # value at row i - 1
        return jnp.concatenate([jnp.full((num_pairs, 1), big), diagonal[:, :-1]], axis=1)

    def step(carry, d):
        before, last, distance = carry
        column = d - rows
        tokens = lax.dynamic_slice_in_dim(hyp_reversed, ref_width + 1 + hyp_width - d,
                                          ref_width + 1, axis=1)
        substitution = shifted(before) + (ref_tokens != tokens)
        current = jnp.minimum(jnp.minimum(shifted(last), last) + 1, substitution)
        current = jnp.where(column == 0, rows, current)
        current = jnp.where(rows == 0, d, current)
        current = jnp.where(column < 0, big, current)
        at_end = jnp.take_along_axis(current, reference_length[:, None], axis=1)[:, 0]
        distance = jnp.where(target == d, at_end, distance)
        return (last, current, distance), None

    shape = (num_pairs, ref_width + 1)
    init = (jnp.full(shape, big), jnp.broadcast_to(jnp.where(rows == 0, 0, big), shape),
            jnp.zeros(num_pairs, jnp.int32))
    steps = jnp.arange(1, ref_width + hyp_width + 1, dtype=jnp.int32)
    (_, _, distance), _ = lax.scan(step, init, steps)
    return distance
