import jax
import optax
import pytest

from jaxdiag.data import fit_normalizer, load_digits, normalize
from jaxdiag.experiment import init_train_state, make_monitored_train_step
from jaxdiag.models import build_model
from jaxdiag.monitor import activation_kinds, monitor_alerts, nnx_capture


def _alerts(activation="relu", tx=None, edit=None, input_scale=1.0):
    digits = load_digits()
    x = normalize(digits.x[:128], fit_normalizer(digits.x)) * input_scale
    y = digits.y[:128]
    capture, params = nnx_capture(build_model("mlp", (8, 8, 1), 10, hidden=(32, 32),
                                              activation_name=activation))
    if edit:
        edit(params)
    kinds = activation_kinds(capture, params, x)
    tx = tx or optax.adam(1e-3)
    step = jax.jit(make_monitored_train_step(capture, kinds, tx))
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
