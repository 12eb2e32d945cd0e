import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdiag.models import build_model, functional
from jaxdiag.monitor import activation_kinds, capture_model, linen_capture, nnx_capture


def test_nnx_layers_are_captured_by_name_with_the_function_that_follows_them():
    x = np.random.default_rng(0).normal(size=(4, 8, 8, 1)).astype(np.float32)
    for name, activation, layers in (("mlp", "tanh", ["dense_0", "dense_1", "dense_2"]),
                                     ("cnn", "relu", ["conv_0", "conv_1", "dense_0", "dense_1"])):
        model = build_model(name, (8, 8, 1), 10, hidden=(16, 16), activation_name=activation)
        capture, params = nnx_capture(model)
        y, outputs = jax.jit(capture)(params, x)
        apply_fn, same_params = functional(model)
        np.testing.assert_allclose(y, apply_fn(same_params, x), rtol=1e-6)
        assert sorted(outputs) == layers
        kinds = activation_kinds(capture, params, x)
        assert kinds == {layer: ("none" if layer == layers[-1] else activation)
                         for layer in layers}
        np.testing.assert_allclose(outputs[layers[-1]], y, rtol=1e-6)  # the logits layer


def test_linen_layers_and_their_activations():
    class Net(nn.Module):
        @nn.compact
        def __call__(self, x):
            h = nn.Dense(16, name="hidden")(x)
            return nn.Dense(3, name="out")(nn.sigmoid(h))

    x = jnp.ones((2, 5))
    variables = Net().init(jax.random.key(0), x)
    capture = linen_capture(Net())
    _, outputs = capture(variables, x)
    assert sorted(outputs) == ["hidden", "out"]
    expected = x @ variables["params"]["hidden"]["kernel"] + variables["params"]["hidden"]["bias"]
    np.testing.assert_allclose(outputs["hidden"], expected, rtol=1e-6)
    assert activation_kinds(capture, variables, x) == {"hidden": "sigmoid", "out": "none"}


def test_capture_model_takes_nnx_linen_and_plain_functions():
    x = np.random.default_rng(0).normal(size=(3, 8, 8, 1)).astype(np.float32)
    module = build_model("mlp", (8, 8, 1), 10, hidden=(16,))
    apply_fn, params, capture = capture_model(module)
    expected, same = functional(module)
    np.testing.assert_allclose(apply_fn(params, x), expected(same, x), rtol=1e-6)
    assert sorted(capture(params, x)[1]) == ["dense_0", "dense_1"]

    class Net(nn.Module):
        @nn.compact
        def __call__(self, x):
            return nn.Dense(10, name="out")(nn.relu(nn.Dense(16, name="hidden")(x.reshape(
                len(x), -1))))

    variables = Net().init(jax.random.key(0), x)
    apply_fn, params, capture = capture_model((Net(), variables))
    np.testing.assert_allclose(apply_fn(params, x), Net().apply(variables, x), rtol=1e-6)
    assert activation_kinds(capture, params, x) == {"hidden": "relu", "out": "none"}

    def plain(p, x):
        return x.reshape(len(x), -1) @ p["w"]

    apply_fn, params, capture = capture_model((plain, {"w": np.ones((64, 10), np.float32)}))
    y, layers = capture(params, x)
    np.testing.assert_allclose(y, apply_fn(params, x))
    assert layers == {}
    with pytest.raises(ValueError, match=r"model: expected a flax\.nnx\.Module.*found int"):
        capture_model(3)
