import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdiag.experiment import OptimizerConfig, make_optimizer, optimizer

PARAMS = {"w": jnp.array([[0.5, -1.0], [2.0, 0.25]]), "b": jnp.array([0.1, -0.3])}


def _grads(params):
    return jax.tree.map(lambda p: jnp.sin(3 * p) + 0.1, params)


def _run(tx, steps=5):
    params, state = PARAMS, tx.init(PARAMS)
    for _ in range(steps):
        updates, state = tx.update(_grads(params), state, params)
        params = optax.apply_updates(params, updates)
    return params


@pytest.mark.parametrize(("name", "reference"), [
    ("sgd", optax.chain(optax.add_decayed_weights(0.01), optax.sgd(0.1, momentum=0.8))),
    ("adam", optax.chain(optax.add_decayed_weights(0.01), optax.adam(0.1, b1=0.8))),
    ("adamw", optax.adamw(0.1, b1=0.8, weight_decay=0.01)),
])
def test_each_optimizer_is_optax_s_own_with_the_hyperparameters_injected(name, reference):
    ours = _run(make_optimizer(OptimizerConfig(name, 0.1, 0.01, 0.8)))
    for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(_run(reference)), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_hyperparameters_may_be_traced_per_member():
    rates = jnp.array([0.01, 0.1])

    def one(rate):
        return _run(optimizer("sgd", rate, 0.0, 0.0), steps=1)["b"]

    vmapped = jax.vmap(one)(rates)
    for i, rate in enumerate([0.01, 0.1]):
        np.testing.assert_allclose(vmapped[i], _run(optax.sgd(rate), steps=1)["b"], rtol=1e-6)
    with pytest.raises(ValueError, match="optimizer: expected one of"):
        optimizer("lamb", 0.1, 0.9, 0.0)
