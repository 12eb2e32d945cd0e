"""Populations of any model: the built-in CNN and a user's NNX model with BatchNorm and Dropout
train in one program exactly as each would alone."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from jaxdiag.models import LeNet, as_model
from jaxdiag.search import (
    Data,
    ModelTask,
    minibatch_indices,
    mlp_task,
    nnx_factory,
    train_population,
)


class UserNet(nnx.Module):
    """A researcher's tabular model: Linear, BatchNorm, ReLU, Dropout, Linear. (Without a bias
    before BatchNorm: its gradient is rounding noise, which Adam scales up to the learning
    rate, so it would differ between any two programs.)"""

    def __init__(self, din: int, dout: int, *, rngs: nnx.Rngs):
        self.dense = nnx.Linear(din, 16, use_bias=False, rngs=rngs)
        self.norm = nnx.BatchNorm(16, rngs=rngs)
        self.drop = nnx.Dropout(0.2, rngs=rngs)
        self.out = nnx.Linear(16, dout, rngs=rngs)

    def __call__(self, x):
        return self.out(self.drop(nnx.relu(self.norm(self.dense(x)))))


def _tabular() -> Data:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 6)).astype(np.float32)
    y = np.argmax(x @ rng.normal(size=(6, 3)), axis=1)
    return Data(x[:240], y[:240], x[240:], y[240:])


def _images() -> Data:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 8, 8, 1)).astype(np.float32)
    y = (x[:, :4].mean((1, 2, 3)) > 0).astype(np.int32)
    return Data(x[:160], y[:160], x[160:], y[160:])


CASES = {
    "user nnx": (ModelTask(nnx_factory(UserNet, 6, 3)), _tabular()),
    "cnn": (ModelTask(nnx_factory(LeNet, (8, 8, 1), 2, channels=(4, 8), dense=16)), _images()),
}
HPARAMS = {"learning_rate": np.array([3e-3, 1e-2, 3e-2]),
           "weight_decay": np.array([0.0, 1e-4, 1e-3])}
SEEDS = np.array([3, 4, 5])
STEPS, BATCH = 12, 16


def user_population():
    """The user NNX model's population of ``HPARAMS`` (a PopulationResult)."""
    return _together("user nnx")[2]


@functools.cache
def _together(name: str):
    task, data = CASES[name]
    return task, data, train_population(task, HPARAMS, SEEDS, data, steps=STEPS,
                                        batch_size=BATCH)


# the CNN's case costs 21 s of compiling on 2 CPU cores (XLA's convolutions in a loop): slow
@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.slow) if name == "cnn"
                                  else name for name in sorted(CASES)])
def test_member_k_equals_the_same_model_trained_alone(name):
    task, data, together = _together(name)
    assert np.all(np.isfinite(together.train_loss))
    k = 1
    alone = train_population(task, {n: v[k:k + 1] for n, v in HPARAMS.items()}, SEEDS[k:k + 1],
                             data, steps=STEPS, batch_size=BATCH)
    np.testing.assert_allclose(alone.train_loss[0], together.train_loss[k], rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(alone.dev_loss[0], together.dev_loss[k], rtol=2e-5)
    for a, b in zip(jax.tree.leaves(alone.params), jax.tree.leaves(together.params), strict=True):
        np.testing.assert_allclose(a[0], b[k], rtol=1e-4, atol=1e-6)


def test_a_user_member_matches_a_plain_optax_loop_with_its_batchnorm_state():
    """Member 0 against an independent loop over the model contract: the same batches
    (``minibatch_indices``), dropout keys and AdamW; BatchNorm statistics carried by hand."""
    _, data, together = _together("user nnx")
    model = as_model(UserNet(6, 3, rngs=nnx.Rngs(jax.random.fold_in(jax.random.key(SEEDS[0]),
                                                                      0))))
    params, state = model.params, model.state
    tx = optax.adamw(HPARAMS["learning_rate"][0], b1=0.9,
                     weight_decay=HPARAMS["weight_decay"][0])
    opt_state = tx.init(params)
    dropout = jax.random.fold_in(jax.random.key(SEEDS[0]), 2)

    @jax.jit
    def step(params, state, opt_state, batch, t):
        def loss(p):
            logits, new = model.apply(p, state, jnp.asarray(data.x_train)[batch],
                                      jax.random.fold_in(dropout, t), True)
            return optax.softmax_cross_entropy_with_integer_labels(
                logits, jnp.asarray(data.y_train)[batch]).mean(), new

        (value, state), grads = jax.value_and_grad(loss, has_aux=True)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), state, opt_state, value

    losses = []
    batches = minibatch_indices(SEEDS[0], np.arange(STEPS), BATCH, len(data.y_train))
    for t, batch in enumerate(batches):
        params, state, opt_state, value = step(params, state, opt_state, batch, t)
        losses.append(float(value))
    np.testing.assert_allclose(together.train_loss[0], losses, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(together.model_state["norm"]["mean"][0], state["norm"]["mean"],
                               rtol=1e-4, atol=1e-6)
    assert not np.allclose(state["norm"]["mean"], 0.0)  # the statistics moved in training
    logits = model.logits(params, state, data.x_dev)
    error = float(jnp.mean(jnp.argmax(logits, -1) != data.y_dev))
    assert together.dev_error[0] == pytest.approx(error)


def test_what_a_model_task_cannot_trace_is_refused():
    task, data = CASES["user nnx"]
    with pytest.raises(ValueError, match=r"hparams: expected names among .*\(what UserNet "
                                         r"traces per member\), found 'dropout'"):
        train_population(task, {"dropout": np.array([0.1])}, np.array([0]), data, steps=2,
                         batch_size=4)
    with pytest.raises(ValueError, match="factory, model: expected exactly one"):
        ModelTask()
    with pytest.raises(ValueError, match=r"optimizer: expected one of \('adam', 'adamw', 'sgd'\)"):
        ModelTask(nnx_factory(UserNet, 6, 3), optimizer="lamb")


SHARDED = """
import json, sys
import numpy as np
from test_search_model_task import user_population
user = user_population()
json.dump({"loss": user.train_loss.tolist(),
           "var": np.asarray(user.model_state["norm"]["var"]).tolist()}, sys.stdout)
"""


def test_four_cpu_devices_train_a_user_model_as_one_does(on_four_cpu_devices):
    """3 members of the user's NNX model (BatchNorm, Dropout) padded to 4, one per device."""
    sharded, single = on_four_cpu_devices(SHARDED), user_population()
    np.testing.assert_allclose(np.array(sharded["loss"]), single.train_loss, rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(np.array(sharded["var"]), single.model_state["norm"]["var"],
                               rtol=1e-5)


def test_the_built_in_mlp_task_counts_six_flops_per_parameter_and_example():
    # 16 -> 16 -> 16 -> 4: (16 * 16 + 16) * 2 + 16 * 4 + 4 = 612 parameters
    task = mlp_task((16,), 4, hidden=(16, 16))
    assert task.num_params == 612 and task.step_flops(32) == 6 * 32 * 612
    assert task.traced_hparams == ("learning_rate", "momentum", "weight_decay", "init_scale")
    assert "dropout" in mlp_task((16,), 4, hidden=(16, 16), dropout=True).traced_hparams
    assert mlp_task((16,), 4, hidden=(16, 16)) is task  # its compiled programs are reused
    with pytest.raises(ValueError, match=r"hidden: expected positive integers, found \(0,\)"):
        mlp_task((16,), 4, hidden=(0,))


def test_a_members_evaluation_in_blocks_of_rows_is_the_whole_one(monkeypatch):
    """A large dev set is evaluated a block of rows at a time, the last block taken back to
    end at the last row and its repeated rows masked out: every row counts once."""
    import jaxdiag.search.task as task_module

    task = mlp_task((6,), 3, hidden=(8,))
    hp = {k: jnp.asarray(v, jnp.float32) for k, v in task_module.MEMBER_HPARAMS.items()}
    params, state = task.init(jax.random.key(0), hp)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(53, 6)).astype(np.float32)
    y = rng.integers(0, 3, 53)
    logits = np.asarray(task.logits(params, state, x), np.float64)
    shifted = logits - logits.max(1, keepdims=True)
    reference_loss = np.mean(np.log(np.exp(shifted).sum(1)) - shifted[np.arange(53), y])
    monkeypatch.setattr(task_module, "EVALUATION_ROWS", 10)  # 6 blocks, the last from row 43
    error, loss = task_module.evaluate(task, params, state, x, y)
    assert round(float(error) * 53) == np.sum(logits.argmax(1) != y)
    np.testing.assert_allclose(float(loss), reference_loss, rtol=1e-6)
