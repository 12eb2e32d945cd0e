import jax
import jax.numpy as jnp
import numpy as np
from jaxdiag.kernels import central_differences


def test_central_differences_of_a_smooth_function_match_its_directional_derivatives():
    with jax.enable_x64(True):
        x = jnp.linspace(-1.0, 2.0, 6).reshape(2, 3)
        directions = jax.random.normal(jax.random.key(0), (5, 2, 3), jnp.float64)

        def f(v):
            return jnp.sum(jnp.sin(v) * v)

        eps = 1e-5
        difference, step = central_differences(f, x, directions, eps)
        np.testing.assert_allclose(step, 2 * eps * directions, rtol=1e-9)
        grad = np.cos(np.asarray(x)) * np.asarray(x) + np.sin(np.asarray(x))
        expected = np.einsum("mij,ij->m", np.asarray(directions), grad)
        np.testing.assert_allclose(difference / (2 * eps), expected, rtol=1e-8)
        chunked, _ = central_differences(f, x, directions, eps, batch_size=3)
        np.testing.assert_allclose(chunked / (2 * eps), expected, rtol=1e-8)


def test_the_returned_step_is_the_rounded_one_in_float32():
    x = jnp.full((4,), 1000.0, jnp.float32)
    directions = jnp.eye(4, dtype=jnp.float32)
    _, step = central_differences(lambda v: v.sum(), x, directions, 1e-4)
    plus, minus = x + 1e-4 * directions, x - 1e-4 * directions
    np.testing.assert_array_equal(step, plus - minus)
    assert float(step[0, 0]) != np.float32(2e-4)  # 1000 +- 1e-4 rounds in float32
