import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxdiag.models import build_model, functional
from jaxdiag.monitor import activation_kinds, linen_capture, nnx_capture


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
