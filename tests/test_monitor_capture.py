import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdiag.models import Model, as_model, build_model
from jaxdiag.monitor import activation_kinds


def test_nnx_layers_are_captured_by_name_with_the_function_that_follows_them():
    x = np.random.default_rng(0).normal(size=(4, 8, 8, 1)).astype(np.float32)
    for name, activation, layers in (("mlp", "tanh", ["dense_0", "dense_1", "dense_2"]),
                                     ("cnn", "relu", ["conv_0", "conv_1", "dense_0", "dense_1"])):
        module = build_model(name, (8, 8, 1), 10, hidden=(16, 16), activation_name=activation)
        model = as_model(module)
        y, _, outputs = jax.jit(model.capture, static_argnums=4)(model.params, model.state, x,
                                                                 None, False)
        np.testing.assert_allclose(y, module(x), rtol=1e-6)
        assert sorted(outputs) == layers
        assert activation_kinds(model, x) == {layer: ("none" if layer == layers[-1] else activation)
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
    model = as_model((Net(), variables))
    _, _, outputs = model.capture(model.params, model.state, x, None, False)
    assert sorted(outputs) == ["hidden", "out"]
    expected = x @ variables["params"]["hidden"]["kernel"] + variables["params"]["hidden"]["bias"]
    np.testing.assert_allclose(outputs["hidden"], expected, rtol=1e-6)
    assert activation_kinds(model, x) == {"hidden": "sigmoid", "out": "none"}


@jax.custom_vjp
def _clipped_relu(z):
    return jnp.clip(z, 0.0, 6.0)


_clipped_relu.defvjp(lambda z: (_clipped_relu(z), z),
                     lambda z, g: (g * ((z > 0) & (z < 6)),))


def test_a_custom_vjp_activation_is_declared_where_it_cannot_be_read():
    class Net(nn.Module):
        @nn.compact
        def __call__(self, x):
            return nn.Dense(3, name="out")(_clipped_relu(nn.Dense(16, name="hidden")(x)))

    x = jnp.ones((2, 5))
    model = as_model((Net(), Net().init(jax.random.key(0), x)))
    assert activation_kinds(model, x) == {"hidden": "none", "out": "none"}
    assert activation_kinds(model, x, declared={"hidden": "relu"})["hidden"] == "relu"
    with pytest.raises(ValueError, match=r"declared: expected layers among \['hidden', 'out'\], "
                                         r"found 'hiden'"):
        activation_kinds(model, x, declared={"hiden": "relu"})
    with pytest.raises(ValueError, match=r"declared\['hidden'\]: expected one of .*found 'gelu'"):
        activation_kinds(model, x, declared={"hidden": "gelu"})


def test_a_plain_function_shows_no_layers():
    def plain(p, x):
        return x.reshape(len(x), -1) @ p["w"]

    model = as_model((plain, {"w": np.ones((64, 10), np.float32)}))
    x = np.ones((3, 64), np.float32)
    assert activation_kinds(model, x) == {}
    assert isinstance(model, Model)
