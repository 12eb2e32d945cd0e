import jax
import jax.numpy as jnp
import numpy as np

from jaxdiag.search.task import MLPTask, dense


def test_dense_gradients_equal_autodiff_of_the_plain_layer():
    rng = np.random.default_rng(0)
    x, w, b = (jnp.asarray(rng.normal(size=s), jnp.float32) for s in [(5, 3, 4), (5, 4, 2), (5, 2)])

    def loss(layer):
        return lambda x, w, b: jnp.sum(jnp.sin(jax.vmap(layer)(x, w, b)))

    got = jax.grad(loss(dense), argnums=(0, 1, 2))(x, w, b)
    want = jax.grad(loss(lambda x, w, b: x @ w + b), argnums=(0, 1, 2))(x, w, b)
    for g, r in zip(got, want, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-6)


def test_step_flops_counts_six_per_parameter_and_example():
    # 16 -> 16 -> 16 -> 4: (16 * 16 + 16) * 2 + 16 * 4 + 4 = 612 parameters
    task = MLPTask(16, 4, width=16, depth=2)
    assert task.num_params == 612
    assert task.step_flops(32) == 6 * 32 * 612
