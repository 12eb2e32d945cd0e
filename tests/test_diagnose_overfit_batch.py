"""Overfit one batch: the baseline passes, planted bugs fail with the right diagnosis."""

import jax
import jax.numpy as jnp
import optax
import pytest

from jaxdiag.data import fit_normalizer, load_digits, normalize
from jaxdiag.diagnose import overfit_one_batch
from jaxdiag.experiment import cross_entropy_loss, init_train_state, make_train_step
from jaxdiag.models import as_model, build_model


@pytest.fixture(scope="module")
def setup():
    digits = load_digits()
    x = normalize(digits.x, fit_normalizer(digits.x))
    model = build_model("mlp", digits.input_shape, 10, hidden=(128, 128),
                        activation_name="relu", seed=0)
    model = as_model(model)
    return (cross_entropy_loss(model), model.params, jnp.asarray(x[:64]),
            jnp.asarray(digits.y[:64]))


def check(setup, tx, step_bug=None):
    loss, params, x, y = setup
    step = make_train_step(loss, tx, jax.random.key(0))
    return overfit_one_batch(step_bug(step) if step_bug else step, init_train_state(params, tx),
                             x, y, steps=300)


def test_the_baseline_memorizes_one_batch(setup):
    result = check(setup, optax.adam(3e-4))
    assert result.passed and result.final_loss < 0.05 and result.findings == []
    assert 0 < result.steps_to_target <= 300
    assert result.losses[result.steps_to_target - 1] <= 0.05 < result.losses[0]


def test_learning_rate_10_explodes(setup):
    result = check(setup, optax.adam(10.0))
    assert not result.passed
    assert result.findings[0].kind == "explodes"
    assert "learning rate too high" in result.findings[0].causes


def test_labels_shuffled_apart_from_inputs_plateau(setup):
    def shuffle_labels(step):  # a pipeline that permutes labels on its own every step
        def buggy(state, x, y):
            key = jax.random.fold_in(jax.random.key(1), state.step)
            return step(state, x, jax.random.permutation(key, y))
        return buggy

    result = check(setup, optax.adam(3e-4), shuffle_labels)
    assert not result.passed and [f.kind for f in result.findings] == ["plateaus"]
    assert "data or labels corrupted" in result.findings[0].causes
    assert result.final_loss > 2.0  # stuck near ln(10)


def test_flipped_gradient_goes_up(setup):
    result = check(setup, optax.chain(optax.adam(3e-4), optax.scale(-1.0)))
    assert not result.passed and result.findings[0].kind == "goes_up"
    assert any("sign" in c for c in result.findings[0].causes)


def test_a_tiny_learning_rate_is_reported(setup):
    result = check(setup, optax.adam(1e-6))
    assert not result.passed and result.findings[0].kind == "plateaus"
    assert "learning rate too low" in result.findings[0].causes


def test_too_slow_when_falling_but_not_far_enough(setup):
    result = check(setup, optax.adam(2e-5))
    assert not result.passed
    assert result.final_loss < 0.8 * result.initial_loss
    assert [f.kind for f in result.findings] == ["too_slow"]


def test_bad_step_budget(setup):
    loss, params, x, y = setup
    tx = optax.adam(1e-3)
    with pytest.raises(ValueError, match="steps"):
        overfit_one_batch(make_train_step(loss, tx, jax.random.key(0)),
                          init_train_state(params, tx), x, y, steps=3)
