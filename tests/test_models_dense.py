import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxdiag.models.dense import Dense, stored_transpose_dense


def test_stored_transpose_gradients_equal_autodiff_of_the_plain_layer_under_vmap():
    rng = np.random.default_rng(0)
    x, w, b = (jnp.asarray(rng.normal(size=s), jnp.float32) for s in [(5, 3, 4), (5, 4, 2), (5, 2)])

    def loss(layer):
        return lambda x, w, b: jnp.sum(jnp.sin(jax.vmap(layer)(x, w, b)))

    got = jax.grad(loss(stored_transpose_dense), argnums=(0, 1, 2))(x, w, b)
    want = jax.grad(loss(lambda x, w, b: x @ w + b), argnums=(0, 1, 2))(x, w, b)
    for g, r in zip(got, want, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-6)


def test_dense_is_nnx_linear_with_the_same_params_and_initialization():
    rngs_a, rngs_b = nnx.Rngs(7), nnx.Rngs(7)
    Dense(2, 4, rngs=rngs_a), nnx.Linear(2, 4, rngs=rngs_b)  # the next layer's init is equal too
    ours, linear = Dense(4, 3, rngs=rngs_a), nnx.Linear(4, 3, rngs=rngs_b)
    ours_state = nnx.to_pure_dict(nnx.state(ours))
    linear_state = nnx.to_pure_dict(nnx.state(linear))
    assert jax.tree.structure(ours_state) == jax.tree.structure(linear_state)
    for a, b in zip(jax.tree.leaves(ours_state), jax.tree.leaves(linear_state), strict=True):
        np.testing.assert_array_equal(a, b)
    x = jnp.arange(8.0).reshape(2, 4)
    np.testing.assert_allclose(ours(x), linear(x), rtol=1e-6)
