"""The monitor inside a user's own NNX loop: nnx.value_and_grad, nnx.Optimizer, BatchNorm."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from jaxdiag.models import as_model, capture_layers
from jaxdiag.monitor import activation_kinds, monitor_alerts, step_statistics


class Net(nnx.Module):
    def __init__(self, rngs: nnx.Rngs):
        self.dense = nnx.Linear(6, 16, rngs=rngs)
        self.norm = nnx.BatchNorm(16, rngs=rngs)
        self.out = nnx.Linear(16, 3, rngs=rngs)

    def __call__(self, x):
        return self.out(nnx.relu(self.norm(self.dense(x))))


def test_statistics_of_the_users_own_step_match_an_independent_computation():
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(32, 6)), jnp.float32)
    y = jnp.asarray(rng.integers(0, 3, 32))
    model = Net(nnx.Rngs(0))
    kinds = activation_kinds(as_model(model), x)
    optimizer = nnx.Optimizer(model, optax.sgd(0.1), wrt=nnx.Param)
    before = jax.tree.map(np.asarray, nnx.to_pure_dict(nnx.state(model, nnx.Param)))

    def loss_fn(model, x, y):
        logits, layers = capture_layers(model, x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(), layers

    @nnx.jit
    def step(model, optimizer, x, y):
        (loss, layers), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model, x, y)
        params = nnx.to_pure_dict(nnx.state(model, nnx.Param))  # values before the update
        updates = optimizer.update(model, grads)
        return loss, step_statistics(layers, kinds, grads, params, updates), grads

    loss, stats, grads = step(model, optimizer, x, y)
    assert np.isfinite(float(loss))
    assert kinds["norm"] == "relu" and sorted(stats["activations"]) == ["dense", "norm", "out"]
    pre = np.asarray(x, np.float64) @ before["dense"]["kernel"] + before["dense"]["bias"]
    normalized = (pre - pre.mean(0)) / np.sqrt(pre.var(0) + 1e-5)  # BatchNorm in training
    np.testing.assert_allclose(float(stats["activations"]["norm"].zero_fraction),
                               np.mean(np.maximum(normalized, 0) == 0), atol=1e-6)
    grads = nnx.to_pure_dict(grads)
    for path in ("dense/kernel", "out/kernel", "out/bias"):
        layer, leaf = path.split("/")
        g = np.asarray(grads[layer][leaf], np.float64)
        assert float(stats["gradients"][path].norm) == np.float32(np.linalg.norm(g))
        if path == "out/bias":  # zero before the step: the ratio is defined as 0
            assert float(stats["gradients"][path].update_ratio) == 0.0
            continue
        # SGD(0.1): the update is -0.1 g, its ratio to the weights before it
        ratio = 0.1 * np.linalg.norm(g) / np.linalg.norm(before[layer][leaf])
        np.testing.assert_allclose(float(stats["gradients"][path].update_ratio), ratio,
                                   rtol=1e-4)
    assert not any(a.kind == "vanishing gradients"
                   for a in monitor_alerts(stats["activations"], stats["gradients"], kinds))


def test_without_updates_the_update_ratios_are_unknown_and_raise_nothing():
    grads = {"w": jnp.ones((3, 3))}
    stats = step_statistics({}, {}, grads, {"w": jnp.ones((3, 3))})
    assert np.isnan(float(stats["gradients"]["w"].update_ratio))
    assert monitor_alerts(stats["activations"], stats["gradients"], {}) == []
