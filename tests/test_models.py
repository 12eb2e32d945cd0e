import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdiag.models import build_model, functional


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_functional_form_equals_the_module(name):
    model = build_model(name, (8, 8, 1), 10, seed=3)
    apply_fn, params = functional(model)
    x = jax.random.normal(jax.random.key(0), (5, 8, 8, 1))
    np.testing.assert_allclose(jax.jit(apply_fn)(params, x), model(x), rtol=1e-6)
    assert apply_fn(params, x).shape == (5, 10)
    grads = jax.grad(lambda p: apply_fn(p, x).sum())(params)
    assert jax.tree.structure(grads) == jax.tree.structure(params)


def test_mlp_layers_and_seeds():
    _, params = functional(build_model("mlp", (64,), 3, hidden=(16, 8), seed=0))
    shapes = {k: v["kernel"].shape for k, v in params.items()}
    assert shapes == {"dense_0": (64, 16), "dense_1": (16, 8), "dense_2": (8, 3)}
    _, same = functional(build_model("mlp", (64,), 3, hidden=(16, 8), seed=0))
    _, other = functional(build_model("mlp", (64,), 3, hidden=(16, 8), seed=1))
    assert jax.tree.all(jax.tree.map(jnp.array_equal, params, same))
    assert not jnp.array_equal(params["dense_0"]["kernel"], other["dense_0"]["kernel"])


def test_bad_model_arguments():
    with pytest.raises(ValueError, match=r"images \(h, w, c\).*found \(64,\)"):
        build_model("cnn", (64,), 10)
    with pytest.raises(ValueError, match="model name: expected one of"):
        build_model("resnet", (64,), 10)
    with pytest.raises(ValueError, match="activation: expected one of"):
        build_model("mlp", (64,), 10, activation_name="swishy")
