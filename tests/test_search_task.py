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


def test_task_loss_gradient_matches_finite_differences_in_float64():
    task = MLPTask(3, 2, width=4, depth=2)
    with jax.enable_x64(True):
        rng = np.random.default_rng(1)
        x, y = rng.normal(size=(6, 3)), rng.integers(0, 2, 6)
        hp = {"init_scale": 1.0, "dropout": 0.0}
        params = jax.tree_util.tree_map(lambda v: v.astype(jnp.float64),
                                        task.init(jax.random.key(0), hp))
        grads = jax.grad(task.loss)(params, x, y, None, hp)
        direction = jax.tree_util.tree_map(lambda v: jnp.asarray(rng.normal(size=v.shape)), params)
        shifted = [jax.tree_util.tree_map(lambda p, d, s=s: p + s * 1e-6 * d, params, direction)
                   for s in (1, -1)]
        numeric = (task.loss(shifted[0], x, y, None, hp)
                   - task.loss(shifted[1], x, y, None, hp)) / 2e-6
        analytic = sum(jnp.vdot(g, d) for g, d in zip(jax.tree_util.tree_leaves(grads),
                                                      jax.tree_util.tree_leaves(direction),
                                                      strict=True))
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6)
