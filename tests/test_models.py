import jax
import jax.numpy as jnp
import pytest

from jaxdiag.models import build_model, functional


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
