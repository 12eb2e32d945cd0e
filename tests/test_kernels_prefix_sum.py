import jax.numpy as jnp
import numpy as np
import pytest
from jaxdiag.kernels import prefix_sum


@pytest.mark.parametrize("shape", [(1,), (31,), (32,), (3, 1001)])
def test_prefix_sum_matches_a_float64_cumsum(shape):
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    got = np.asarray(prefix_sum(jnp.asarray(x)))
    np.testing.assert_allclose(got, np.cumsum(x.astype(np.float64), axis=-1), atol=1e-4)


def test_prefix_sum_of_counts_is_exact():
    counts = np.random.default_rng(1).integers(0, 6, (4, 100_003))
    got = np.asarray(prefix_sum(jnp.asarray(counts, jnp.float32)))
    np.testing.assert_array_equal(got, np.cumsum(counts, axis=-1))
