import jax
import jax.numpy as jnp
import numpy as np
import optax
from scipy import stats

from jaxdiag.experiment import (
    TrainState,
    cross_entropy_loss,
    init_train_state,
    make_train_step,
    make_train_steps,
)
from jaxdiag.models import as_model


def _linear_fn(params, x):
    return x @ params["w"] + params["b"]


_linear = as_model((_linear_fn, {}))
KEY = jax.random.key(5)


def test_one_sgd_step_matches_a_float64_numpy_gradient():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 3)), rng.integers(0, 4, 8)
    w, b = rng.normal(size=(3, 4)), rng.normal(size=4)
    tx = optax.sgd(0.1)
    params = {"w": jnp.asarray(w, jnp.float32), "b": jnp.asarray(b, jnp.float32)}
    state, loss = jax.jit(make_train_step(cross_entropy_loss(_linear), tx, KEY))(
        init_train_state(params, tx), jnp.asarray(x, jnp.float32), jnp.asarray(y))
    logits = x @ w + b
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    onehot = np.eye(4)[y]
    np.testing.assert_allclose(loss, -np.log(p[np.arange(8), y]).mean(), rtol=1e-5)
    dlogits = (p - onehot) / 8
    np.testing.assert_allclose(state.params["w"], w - 0.1 * x.T @ dlogits, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(state.params["b"], b - 0.1 * dlogits.sum(0), rtol=1e-5, atol=1e-6)
    assert int(state.step) == 1


def _counting_step(state, x, y):
    """Counts how often each example index (x) is drawn; y must match x."""
    counts = state.params.at[x].add(1)
    return TrainState(counts, state.opt_state, state.step + 1), jnp.mean(x != y)


def test_each_epoch_draws_every_example_at_most_once():
    n, batch = 23, 5  # 4 steps per epoch, 3 examples left out of each shuffled epoch
    steps = make_train_steps(_counting_step, batch, jax.random.key(0))
    x = jnp.arange(n)
    state = TrainState(jnp.zeros(n, jnp.int32), (), jnp.zeros((), jnp.int32))
    state, mismatch = steps(state, x, x, num_steps=4)
    assert int(mismatch.sum()) == 0  # labels travel with their inputs
    assert set(np.asarray(state.params).tolist()) == {0, 1} and int(state.params.sum()) == 20
    state, _ = steps(state, x, x, num_steps=4 * 50)
    counts = np.asarray(state.params)
    assert counts.sum() == 51 * 20 and counts.min() > 30  # every example keeps being drawn


def test_chunks_resume_bit_identically():
    rng = np.random.default_rng(1)
    x = jnp.asarray(rng.normal(size=(40, 3)), jnp.float32)
    y = jnp.asarray(rng.integers(0, 4, 40))
    params = {"w": jnp.zeros((3, 4)), "b": jnp.zeros(4)}
    tx = optax.adam(1e-2)
    steps = make_train_steps(make_train_step(cross_entropy_loss(_linear), tx, KEY), 8,
                             jax.random.key(2))
    whole, losses = steps(init_train_state(params, tx), x, y, num_steps=30)
    half, first = steps(init_train_state(params, tx), x, y, num_steps=13)
    half, second = steps(half, x, y, num_steps=17)
    np.testing.assert_array_equal(losses, np.concatenate([first, second]))
    for a, b in zip(jax.tree.leaves(whole), jax.tree.leaves(half), strict=True):
        np.testing.assert_array_equal(a, b)
    assert float(losses[-5:].mean()) < float(losses[:5].mean())


def test_each_step_draws_its_own_dropout_key_from_the_step_count():
    keys = []

    def loss(params, state, x, y, key):
        keys.append(key)
        return jnp.sum(params * jax.random.uniform(key)), state

    step = make_train_step(loss, optax.sgd(0.0), KEY)
    state = init_train_state(jnp.ones(()), optax.sgd(0.0))
    _, first = step(state, None, None)
    _, again = step(state, None, None)
    _, later = step(state._replace(step=state.step + 1), None, None)
    assert float(first) == float(again) == float(jax.random.uniform(jax.random.fold_in(KEY, 0)))
    assert float(later) == float(jax.random.uniform(jax.random.fold_in(KEY, 1)))


def test_balanced_batches_draw_each_class_equally_and_resume_bit_identically():
    """Labels 0 (950 examples), 1 (45), 2 (5) and 12 unlabelled (-1): each drawn batch takes
    the three classes a third of the time each (chi-square) and never an unlabelled example;
    the draws depend on the key and the step only."""
    n = 1012
    labels = jnp.asarray(np.r_[np.zeros(950), np.ones(45), np.full(5, 2), np.full(12, -1)]
                         .astype(np.int32))
    x = jnp.arange(n)
    steps = make_train_steps(_counting_step, 16, jax.random.key(0),
                             balance=(lambda y: y, 3))
    state = TrainState(jnp.zeros(n, jnp.int32), (), jnp.zeros((), jnp.int32))
    whole, _ = steps(state, x, labels, num_steps=300)
    counts = np.asarray(whole.params)
    per_class = np.array([counts[:950].sum(), counts[950:995].sum(), counts[995:1000].sum()])
    assert counts[1000:].sum() == 0 and per_class.sum() == 300 * 16
    assert stats.chisquare(per_class).pvalue > 1e-3, per_class
    assert stats.chisquare(counts[995:1000]).pvalue > 1e-3  # uniform within a class
    half, _ = steps(state, x, labels, num_steps=120)
    half, _ = steps(half, x, labels, num_steps=180)
    np.testing.assert_array_equal(half.params, whole.params)
