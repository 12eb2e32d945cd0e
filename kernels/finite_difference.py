"""Central finite differences of a scalar function along many directions in one vmap."""

from collections.abc import Callable

import jax
import jax.numpy as jnp


def central_differences(
    f: Callable[[jax.Array], jax.Array],
    x: jax.Array,
    directions: jax.Array,
    eps: float | jax.Array,
    batch_size: int | None = None,
) -> tuple[jax.Array, jax.Array]:
    """``f(x + eps d) - f(x - eps d)`` for every direction ``d``, and the step actually taken.

    ``x + eps d`` is rounded to ``x``'s dtype, so the step between the two points is not exactly
    ``2 eps d``; it is returned so that a caller can compare the difference with ``<grad, step>``
    and see only the error of the derivative, not the rounding of the points.

    Args:
      f: scalar function of an array shaped like ``x``.
      x: float array, any shape.
      directions: float array, shape (m, *x.shape).
      eps: step size, a scalar.
      batch_size: evaluate at most this many points at once (``lax.map``); None: all 2m in
        one vmap.

    Returns:
      ``(difference, step)``: shapes (m,) and (m, *x.shape), dtype of ``x``.
    """
    plus = x + eps * directions
    minus = x - eps * directions
    points = jnp.concatenate([plus, minus])
    if batch_size is None:
        values = jax.vmap(f)(points)
    else:
        values = jax.lax.map(f, points, batch_size=batch_size)
    m = directions.shape[0]
    return values[:m] - values[m:], plus - minus
