"""The model contract: NNX, Linen and plain models as ``apply(params, state, x, key, train)``."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxdiag.models import Model, as_model, build_model, functional


class NNXNet(nnx.Module):
    """A user's NNX model with BatchNorm and Dropout."""

    def __init__(self, din: int, dout: int, rngs: nnx.Rngs):
        self.dense = nnx.Linear(din, 16, rngs=rngs)
        self.norm = nnx.BatchNorm(16, rngs=rngs)
        self.drop = nnx.Dropout(0.5, rngs=rngs)
        self.out = nnx.Linear(16, dout, rngs=rngs)

    def __call__(self, x):
        return self.out(self.drop(nnx.relu(self.norm(self.dense(x)))))


class LinenNet(nn.Module):
    """A user's Linen model with BatchNorm and Dropout and a ``train`` flag."""

    @nn.compact
    def __call__(self, x, train: bool = False):
        h = nn.relu(nn.BatchNorm(use_running_average=not train)(nn.Dense(16)(x)))
        return nn.Dense(3)(nn.Dropout(0.5, deterministic=not train)(h))


X = np.random.default_rng(0).normal(1.0, 2.0, (32, 5)).astype(np.float32)


def _models() -> dict[str, Model]:
    variables = LinenNet().init(jax.random.key(0), X)
    return {"nnx": as_model(NNXNet(5, 3, nnx.Rngs(0))), "linen": as_model((LinenNet(), variables))}


@pytest.mark.parametrize("kind", ["nnx", "linen"])
def test_batch_statistics_move_in_training_and_not_in_evaluation(kind):
    model = _models()[kind]
    apply = jax.jit(model.apply, static_argnums=4)
    _, trained = apply(model.params, model.state, X, jax.random.key(1), True)
    _, evaluated = apply(model.params, model.state, X, None, False)
    float_leaves = [(a, b, c) for a, b, c in zip(jax.tree.leaves(model.state),
                                                  jax.tree.leaves(trained),
                                                  jax.tree.leaves(evaluated), strict=True)
                    if jnp.issubdtype(a.dtype, jnp.floating)]
    assert len(float_leaves) == 2  # BatchNorm's running mean and variance
    for before, after_training, after_evaluation in float_leaves:
        assert not np.allclose(before, after_training)
        np.testing.assert_array_equal(before, after_evaluation)
    # momentum 0.99 towards the batch mean of the dense layer's output (float64 reference)
    dense = model.params["dense" if kind == "nnx" else "Dense_0"]
    batch_mean = (X.astype(np.float64) @ dense["kernel"] + dense["bias"]).mean(0)
    mean = trained["norm"]["mean"] if kind == "nnx" else trained["batch_stats"]["BatchNorm_0"][
        "mean"]
    np.testing.assert_allclose(mean, 0.01 * batch_mean, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("kind", ["nnx", "linen"])
def test_dropout_masks_come_from_the_key_and_evaluation_is_deterministic(kind):
    model = _models()[kind]
    apply = jax.jit(model.apply, static_argnums=4)
    first, _ = apply(model.params, model.state, X, jax.random.key(1), True)
    again, _ = apply(model.params, model.state, X, jax.random.key(1), True)
    second, _ = apply(model.params, model.state, X, jax.random.key(2), True)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, second)
    evaluated = [apply(model.params, model.state, X, None, False)[0] for _ in range(2)]
    np.testing.assert_array_equal(*evaluated)
    np.testing.assert_allclose(model.logits(model.params, model.state, X), evaluated[0])


@pytest.mark.parametrize("kind", ["nnx", "linen"])
def test_only_params_are_differentiated(kind):
    model = _models()[kind]

    def loss(params):
        logits, _ = model.apply(params, model.state, X, jax.random.key(0), True)
        return jnp.mean(logits**2)

    grads = jax.grad(loss)(model.params)  # an integer RNG count here would be an error
    assert jax.tree.structure(grads) == jax.tree.structure(model.params)
    assert all(jnp.issubdtype(g.dtype, jnp.floating) for g in jax.tree.leaves(grads))
    leaves = {jax.tree_util.keystr(p, simple=True, separator="/")
              for p, _ in jax.tree_util.tree_flatten_with_path(model.params)[0]}
    assert not any("mean" in leaf or "var" in leaf or "count" in leaf for leaf in leaves)


def test_a_population_of_nnx_models_is_one_vmap():
    def init(seed):
        model = as_model(NNXNet(5, 3, nnx.Rngs(jax.random.key(seed))))
        return model.params, model.state

    template = _models()["nnx"]
    params, state = jax.vmap(init)(jnp.arange(4))
    logits, new_state = jax.vmap(lambda p, s, k: template.apply(p, s, X, k, True))(
        params, state, jax.random.split(jax.random.key(0), 4))
    assert logits.shape == (4, 32, 3) and new_state["norm"]["mean"].shape == (4, 16)
    alone = template.apply(jax.tree.map(lambda v: v[2], params),
                           jax.tree.map(lambda v: v[2], state), X,
                           jax.random.split(jax.random.key(0), 4)[2], True)[0]
    np.testing.assert_allclose(logits[2], alone, rtol=1e-5, atol=1e-6)


def test_layers_are_captured_in_both_modes():
    model = _models()["nnx"]
    y, _, layers = model.capture(model.params, model.state, X, jax.random.key(0), True)
    assert sorted(layers) == ["dense", "drop", "norm", "out"]
    np.testing.assert_allclose(layers["out"], y)
    y, _, layers = model.capture(model.params, model.state, X, None, False)
    np.testing.assert_allclose(y, model.logits(model.params, model.state, X), rtol=1e-6)


def test_plain_functions_carry_no_state():
    def apply_fn(p, x):
        return x @ p["w"]

    model = as_model((apply_fn, {"w": np.ones((5, 3), np.float32)}))
    assert model.state == {} and model.name == "apply_fn"
    logits, state = model.apply(model.params, model.state, X, None, True)
    np.testing.assert_allclose(logits, X @ np.ones((5, 3)), rtol=1e-6)
    assert model.capture(model.params, state, X, None, False)[2] == {}
    assert as_model(model) is model


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_functional_form_equals_the_module(name):
    module = build_model(name, (8, 8, 1), 10, seed=3)
    apply_fn, params = functional(module)
    x = jax.random.normal(jax.random.key(0), (5, 8, 8, 1))
    np.testing.assert_allclose(jax.jit(apply_fn)(params, x), module(x), rtol=1e-6)
    assert as_model(module).name == ("MLP" if name == "mlp" else "LeNet")


def test_what_is_not_a_model_is_refused():
    with pytest.raises(ValueError, match=r"model: expected a flax\.nnx\.Module.*found int"):
        as_model(3)
    with pytest.raises(ValueError, match=r"'params' collection.*found dict with keys \['w'\]"):
        as_model((LinenNet(), {"w": 1}))
