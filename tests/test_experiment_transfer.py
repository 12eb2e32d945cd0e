import jax
import numpy as np
import optax
import pytest

from jaxdiag.experiment import init_train_state
from jaxdiag.experiment.config import ModelConfig
from jaxdiag.experiment.heads import configured_multihead_model
from jaxdiag.experiment.masked_loss import multitask_loss
from jaxdiag.experiment.multitask_step import make_multitask_step
from jaxdiag.experiment.transfer import (
    frozen_leaves,
    load_trunk,
    transfer_labels,
    transfer_optimizer,
)

TRUNK = ModelConfig(hidden=(16, 8))


def _model(seed=0, trunk=TRUNK):
    return configured_multihead_model(trunk, (6,), {"digit": 3, "even": 1}, seed)


def _train(mode, steps=5, lr=0.1, scale=0.5, last_n=1, probe_steps=0):
    """(params before, params after) of ``steps`` SGD steps in ``mode``; pretrained trunk from
    another seed."""
    model = _model(seed=0)
    params = load_trunk(model.params, _model(seed=7).params["trunk"], "seed-7")
    labels = transfer_labels(model, mode, last_n)
    tx = transfer_optimizer(optax.sgd, lr, labels, scale, probe_steps)
    step = jax.jit(make_multitask_step(model.apply, {"digit": "multiclass", "even": "binary"},
                                       {"digit": 1.0, "even": 1.0}, tx, frozen_leaves(labels)))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 6)).astype(np.float32)
    y = {"digit": rng.integers(-1, 3, 32), "even": rng.integers(-1, 2, 32)}
    state = init_train_state(params, tx)
    for _ in range(steps):
        state, _ = step(state, x, y)
    return params, state.params, (model, x, y)


def _loss_grads(model, params, x, y):
    """Gradient of ``_train``'s loss at ``params``."""
    return jax.grad(lambda p: multitask_loss(
        model.apply(p, x), y, {"digit": "multiclass", "even": "binary"},
        {"digit": 1.0, "even": 1.0})[0])(params)


def _same_bits(a, b):
    return all(np.asarray(u).tobytes() == np.asarray(v).tobytes()
               for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True))


def test_head_only_leaves_every_trunk_parameter_bit_identical():
    before, after, _ = _train("head_only")
    assert _same_bits(before["trunk"], after["trunk"])
    for head in ("digit", "even"):
        assert not np.array_equal(before["heads"][head]["kernel"],
                                  after["heads"][head]["kernel"])


def test_last_n_trains_only_the_last_layers():
    before, after, _ = _train("last_n", last_n=1)
    assert _same_bits(before["trunk"]["dense_0"], after["trunk"]["dense_0"])
    assert not np.array_equal(before["trunk"]["dense_1"]["kernel"],
                              after["trunk"]["dense_1"]["kernel"])


def test_full_fine_tuning_scales_the_trunk_learning_rate():
    # One SGD step: the trunk moves by scale x lr x gradient, the heads by lr x gradient.
    before, after, (model, x, y) = _train("full", steps=1, lr=0.1, scale=0.25)
    grads = _loss_grads(model, before, x, y)
    for part, lr in (("trunk", 0.025), ("heads", 0.1)):
        moved = jax.tree.map(lambda a, b: a - b, after[part], before[part])
        expected = jax.tree.map(lambda g, lr=lr: -lr * g, grads[part])
        for m, e in zip(jax.tree.leaves(moved), jax.tree.leaves(expected), strict=True):
            np.testing.assert_allclose(m, e, rtol=1e-4, atol=1e-7)


def test_probe_steps_train_only_the_heads_first_then_the_trunk():
    # Three steps of heads only, then a fourth in which the trunk moves by its own SGD step.
    before, probed, (model, x, y) = _train("full", steps=3, scale=0.5, probe_steps=3)
    assert _same_bits(before["trunk"], probed["trunk"])
    assert not np.array_equal(before["heads"]["digit"]["kernel"],
                              probed["heads"]["digit"]["kernel"])
    _, after, _ = _train("full", steps=4, scale=0.5, probe_steps=3)
    grads = _loss_grads(model, probed, x, y)
    moved = jax.tree.map(lambda a, b: a - b, after["trunk"], probed["trunk"])
    for m, g in zip(jax.tree.leaves(moved), jax.tree.leaves(grads["trunk"]), strict=True):
        np.testing.assert_allclose(m, -0.05 * g, rtol=1e-4, atol=1e-7)


def test_load_trunk_names_the_mismatched_parameter():
    model = _model()
    other = _model(trunk=ModelConfig(hidden=(16, 4))).params["trunk"]
    with pytest.raises(ValueError, match=r"'runs/a': trunk parameter 'dense_1.bias' has shape "
                                         r"\(4,\) there, expected \(8,\) here"):
        load_trunk(model.params, other, "runs/a")
    deeper = _model(trunk=ModelConfig(hidden=(16, 8, 8))).params["trunk"]
    with pytest.raises(ValueError, match=r"'dense_2\.bias' of shape \(8,\) there has no"):
        load_trunk(model.params, deeper, "runs/a")
    shallower = _model(trunk=ModelConfig(hidden=(16,))).params["trunk"]
    with pytest.raises(ValueError, match=r"'dense_1\.bias' is missing there"):
        load_trunk(model.params, shallower, "runs/a")
    loaded = load_trunk(model.params, _model(seed=3).params["trunk"], "runs/a")
    assert _same_bits(loaded["trunk"], _model(seed=3).params["trunk"])
    assert _same_bits(loaded["heads"], model.params["heads"])


def test_cnn_trunk_layers_and_labels():
    model = configured_multihead_model(ModelConfig(name="cnn", hidden=(12,)), (8, 8, 1),
                                       {"digit": 5}, 0)
    assert model.trunk_layers == ("conv_0", "conv_1", "dense_0")
    labels = transfer_labels(model, "last_n", 2)
    assert labels["trunk"]["conv_0"]["kernel"] == "frozen"
    assert labels["trunk"]["conv_1"]["kernel"] == "trunk"
    assert labels["heads"]["digit"]["bias"] == "head"
    assert model.apply(model.params, np.zeros((2, 8, 8, 1), np.float32))["digit"].shape == (2, 5)
