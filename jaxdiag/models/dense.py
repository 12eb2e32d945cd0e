"""The dense layer of the built-in MLPs, with the weight gradient that stays fast under vmap."""

import jax
from flax import nnx


@jax.custom_vjp
def stored_transpose_dense(x: jax.Array, w: jax.Array, b: jax.Array) -> jax.Array:
    """``x @ w + b`` for x (batch, in), w (in, out), b (out,), whose weight gradient
    ``x.T @ g`` is computed from a stored copy of ``x.T``.

    Autodiff writes that gradient as a dot contracting the leading axis of both operands;
    under ``vmap`` (a population of models) XLA's CPU backend runs such a batched dot on a
    generic path about 2.5x slower than its library path for ``(in, batch) @ (batch, out)``,
    and simplifies a plain transpose back into the dot. The barrier keeps the transpose, a
    copy of the activations. Being a ``custom_vjp``, it differentiates in reverse mode only
    (``jax.grad``, not ``jax.jvp``).
    """
    return x @ w + b


def _forward(x, w, b):
    return x @ w + b, (jax.lax.optimization_barrier(x.T), w)


def _backward(residuals, g):
    x_t, w = residuals
    return g @ w.T, x_t @ g, g.sum(0)


stored_transpose_dense.defvjp(_forward, _backward)


class Dense(nnx.Module):
    """``nnx.Linear`` (same ``kernel`` and ``bias`` Params, same initialization) computed by
    ``stored_transpose_dense``: the layer of ``MLP`` and ``Trunk``.

    Call: x float array (batch, in_features) -> (batch, out_features). Reverse-mode
    differentiation only.
    """

    def __init__(self, in_features: int, out_features: int, *, rngs: nnx.Rngs):
        kernel_key, bias_key = rngs.params(), rngs.params()  # nnx.Linear's draws, in order
        self.kernel = nnx.Param(nnx.initializers.lecun_normal()(kernel_key,
                                                                (in_features, out_features)))
        self.bias = nnx.Param(nnx.initializers.zeros_init()(bias_key, (out_features,)))

    def __call__(self, x: jax.Array) -> jax.Array:
        return stored_transpose_dense(x, self.kernel[...], self.bias[...])
