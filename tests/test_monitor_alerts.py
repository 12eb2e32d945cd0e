import jax
import optax
import pytest
from flax import nnx

from jaxdiag.data import fit_normalizer, load_digits, normalize
from jaxdiag.experiment import init_train_state, make_monitored_train_step
from jaxdiag.models import as_model, build_model
from jaxdiag.monitor import activation_kinds, monitor_alerts


def _alerts(activation="relu", tx=None, edit=None, input_scale=1.0):
    digits = load_digits()
    x = normalize(digits.x[:128], fit_normalizer(digits.x)) * input_scale
    y = digits.y[:128]
    model = as_model(build_model("mlp", (8, 8, 1), 10, hidden=(32, 32),
                                 activation_name=activation))
    params = model.params
    if edit:
        edit(params)
    kinds = activation_kinds(model, x)
    tx = tx or optax.adam(1e-3)
    step = jax.jit(make_monitored_train_step(model, kinds, tx, jax.random.key(0)))
    _, _, stats = step(init_train_state(params, tx), x, y)
    found = monitor_alerts(stats["activations"], stats["gradients"], kinds)
    return {(a.kind, a.where) for a in found}, stats


def test_a_healthy_model_raises_no_alert():
    found, stats = _alerts()
    assert found == set()
    assert 1e-4 < float(stats["gradients"]["dense_0/kernel"].update_ratio) < 1e-1


def test_a_large_negative_bias_kills_the_relus_and_their_gradient():
    def kill(params):
        params["dense_0"]["bias"] = params["dense_0"]["bias"] - 100.0

    found, stats = _alerts(edit=kill)
    assert ("dead units", "dense_0") in found
    assert ("vanishing gradients", "dense_0/kernel") in found
    assert float(stats["activations"]["dense_0"].dead_fraction) == 1.0


def test_large_weights_saturate_tanh():
    def blow_up(params):
        params["dense_0"]["kernel"] = params["dense_0"]["kernel"] * 50

    found, _ = _alerts(activation="tanh", edit=blow_up)
    assert ("saturation", "dense_0") in found
    assert ("dead units", "dense_0") not in found  # dead units are a ReLU matter


@pytest.mark.parametrize(("tx", "scale", "kind"), [(optax.sgd(1.0), 1e5, "exploding gradients"),
                                                   (optax.sgd(100.0), 1.0, "update ratio high"),
                                                   (optax.sgd(1e-7), 1.0, "update ratio low")])
def test_learning_rate_and_scale_problems(tx, scale, kind):
    found, _ = _alerts(tx=tx, input_scale=scale)
    assert kind in {k for k, _ in found}


class _NormalizedNet(nnx.Module):
    def __init__(self, rngs: nnx.Rngs):
        self.dense = nnx.Linear(64, 32, rngs=rngs)
        self.norm = nnx.BatchNorm(32, rngs=rngs)
        self.out = nnx.Linear(32, 10, rngs=rngs)

    def __call__(self, x):
        return self.out(nnx.relu(self.norm(self.dense(x.reshape(len(x), -1)))))


def test_a_bias_before_batchnorm_has_no_gradient_and_raises_no_alert():
    digits = load_digits()
    x = normalize(digits.x[:128], fit_normalizer(digits.x))
    model = as_model(_NormalizedNet(nnx.Rngs(0)))
    kinds = activation_kinds(model, x)
    tx = optax.adam(1e-3)
    step = jax.jit(make_monitored_train_step(model, kinds, tx, jax.random.key(0)))
    _, _, stats = step(init_train_state(model.params, tx, model.state), x, digits.y[:128])
    assert float(stats["gradients"]["dense/bias"].norm) < 1e-6  # BatchNorm removes the mean
    assert sorted(stats["gradients"]) == sorted(  # statistics of Params only
        ["dense/bias", "dense/kernel", "norm/bias", "norm/scale", "out/bias", "out/kernel"])
    found = monitor_alerts(stats["activations"], stats["gradients"], kinds)
    assert not [a for a in found if a.kind == "vanishing gradients"]
