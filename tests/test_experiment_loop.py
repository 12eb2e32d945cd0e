import struct

import jax
import numpy as np
import pytest
from flax import nnx
from tensorboardX.proto.event_pb2 import Event

from jaxdiag.data import fit_normalizer, load_digits, make_splits, normalize
from jaxdiag.experiment import (
    TrainConfig,
    cross_entropy_loss,
    fit,
    init_train_state,
    make_evaluator,
    make_monitored_train_step,
    make_optimizer,
    make_train_step,
    make_train_steps,
)
from jaxdiag.experiment.config import OptimizerConfig
from jaxdiag.models import as_model, build_model
from jaxdiag.monitor import activation_kinds

CONFIG = TrainConfig(steps=300, batch_size=32, log_every=50, eval_every=100, checkpoint_every=100)


DROPOUT_KEY = jax.random.key(2)


def _mlp():
    return as_model(build_model("mlp", (8, 8, 1), 10, hidden=(32,), seed=0))


def _setup(model=None):
    splits = make_splits(load_digits(), None, seed=0)
    normalizer = fit_normalizer(splits["train"].data.x)
    arrays = {k: (normalize(s.data.x, normalizer), s.data.y) for k, s in splits.items()}
    model = model or _mlp()
    tx = make_optimizer(OptimizerConfig(learning_rate=3e-3))
    steps = make_train_steps(make_train_step(cross_entropy_loss(model), tx, DROPOUT_KEY), 32,
                             jax.random.key(1))
    return (init_train_state(model.params, tx, model.state), steps, make_evaluator(model, 10),
            arrays)


def _read_values(folder):
    """(tag, step) -> summary value (scalar or histogram) from every event file under folder."""
    values = {}
    for path in sorted(folder.glob("events.out.tfevents.*")):
        data = path.read_bytes()
        at = 0
        while at < len(data):
            (length,) = struct.unpack("<Q", data[at:at + 8])
            event = Event.FromString(data[at + 12:at + 12 + length])
            at += 12 + length + 4
            for value in event.summary.value:
                values[value.tag, event.step] = value
    return values


def _read_scalars(folder):
    return {key: v.simple_value for key, v in _read_values(folder).items()
            if not v.HasField("histo")}


def test_fit_logs_checkpoints_and_evaluates(tmp_path):
    state, steps, evaluate, arrays = _setup()
    result = fit(state, steps, evaluate, arrays, CONFIG, tmp_path, progress=False)
    assert int(result.state.step) == 300 and result.resumed_from is None
    assert [s for s, _ in result.history["train_loss"]] == [50, 100, 150, 200, 250, 300]
    assert [e["step"] for e in result.history["eval"]] == [100, 200, 300]
    assert result.final["train"].error < 0.05
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["200", "300"]
    scalars = _read_scalars(tmp_path / "tensorboard")
    for step, loss in result.history["train_loss"]:
        assert scalars["minibatch/loss", step] == pytest.approx(loss)
    assert scalars["dev/error", 300] == pytest.approx(result.final["dev"].error)


class Killed(Exception):
    pass


class BatchNormDropoutNet(nnx.Module):
    def __init__(self, rngs: nnx.Rngs):
        self.dense = nnx.Linear(64, 32, rngs=rngs)
        self.norm = nnx.BatchNorm(32, rngs=rngs)
        self.drop = nnx.Dropout(0.3, rngs=rngs)
        self.out = nnx.Linear(32, 10, rngs=rngs)

    def __call__(self, x):
        h = nnx.relu(self.norm(self.dense(x.reshape(len(x), -1))))
        return self.out(self.drop(h))


@pytest.mark.parametrize("kind", ["mlp", "batchnorm+dropout"])
def test_a_crashed_fit_resumes_to_identical_numbers(tmp_path, kind):
    def model():
        return _mlp() if kind == "mlp" else as_model(BatchNormDropoutNet(nnx.Rngs(0)))

    state, steps, evaluate, arrays = _setup(model())
    whole = fit(state, steps, evaluate, arrays, CONFIG, tmp_path / "whole", progress=False)
    if kind != "mlp":  # the running statistics were trained, carried and checkpointed
        assert not np.allclose(whole.state.model_state["norm"]["var"], 1.0)
        assert int(whole.state.model_state["drop"]["rngs"]["count"]) == 300  # one draw a step

    calls = []

    def crashing_evaluate(params, model_state, x, y):
        calls.append(1)
        if len(calls) > 4 * 2:  # 4 splits a round: dies in the round at step 300, which comes
            raise Killed        # after the minibatch loss of step 300 went to TensorBoard
        return evaluate(params, model_state, x, y)

    state, steps, evaluate, arrays = _setup(model())
    with pytest.raises(Killed):
        fit(state, steps, crashing_evaluate, arrays, CONFIG, tmp_path / "killed", progress=False)
    state, steps, evaluate, arrays = _setup(model())
    resumed = fit(state, steps, evaluate, arrays, CONFIG, tmp_path / "killed", progress=False)
    assert resumed.resumed_from == 200
    assert resumed.history == whole.history
    for a, b in zip(jax.tree.leaves(whole.state), jax.tree.leaves(resumed.state), strict=True):
        np.testing.assert_array_equal(a, b)
    for name in whole.final:
        assert resumed.final[name].loss == whole.final[name].loss
    scalars = _read_scalars(tmp_path / "killed" / "tensorboard")
    assert scalars["minibatch/loss", 300] == pytest.approx(whole.history["train_loss"][-1][1])


def test_a_monitored_fit_writes_statistics_and_histograms_to_tensorboard(tmp_path):
    _, _, evaluate, arrays = _setup()
    model = _mlp()
    kinds = activation_kinds(model, arrays["train"][0][:2])
    tx = make_optimizer(OptimizerConfig(learning_rate=3e-3))
    steps = make_train_steps(make_train_step(cross_entropy_loss(model), tx, DROPOUT_KEY), 32,
                             jax.random.key(1),
                             make_monitored_train_step(model, kinds, tx, DROPOUT_KEY))
    config = TrainConfig(steps=100, batch_size=32, log_every=50, eval_every=100,
                         checkpoint_every=100)
    result = fit(init_train_state(model.params, tx), steps, evaluate, arrays, config, tmp_path,
                 progress=False, kinds=kinds)
    assert [r["step"] for r in result.history["monitor"]] == [50, 100]
    assert result.history["monitor"][-1]["alerts"] == []
    values = _read_values(tmp_path / "tensorboard")
    for step in (50, 100):
        histogram = values["activations/dense_0", step].histo
        assert sum(histogram.bucket) == 32 * 32  # batch x units
        assert len(histogram.bucket_limit) == 30 and histogram.min == 0.0  # after a ReLU
        assert values["gradients/dense_1/kernel/norm", step].simple_value > 0
        assert 0 <= values["activations/dense_0/dead_fraction", step].simple_value <= 1


@pytest.mark.parametrize("kind", ["mlp", "batchnorm+dropout"])
def test_monitoring_does_not_change_the_training_numbers(tmp_path, kind):
    model = _mlp() if kind == "mlp" else as_model(BatchNormDropoutNet(nnx.Rngs(0)))
    state, plain, _, arrays = _setup(model)
    tx = make_optimizer(OptimizerConfig(learning_rate=3e-3))
    kinds = activation_kinds(model, arrays["train"][0][:2])
    monitored = make_train_steps(make_train_step(cross_entropy_loss(model), tx, DROPOUT_KEY), 32,
                                 jax.random.key(1),
                                 make_monitored_train_step(model, kinds, tx, DROPOUT_KEY))
    x, y = arrays["train"]
    a, losses_a = plain(state, x, y, num_steps=20)
    b, losses_b, _ = monitored(state, x, y, num_steps=20)
    np.testing.assert_allclose(losses_a, losses_b, rtol=1e-5)
    for p, q in zip(jax.tree_util.tree_leaves((a.params, a.model_state)),
                    jax.tree_util.tree_leaves((b.params, b.model_state)), strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-4, atol=1e-6)
