import dataclasses
import json

import jax
import numpy as np
import optax
import pytest
from flax import nnx

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
from jaxdiag.experiment.config import ModelConfig, OptimizerConfig
from jaxdiag.experiment.heads import configured_multihead_model
from jaxdiag.experiment.loop import SegmentLog, run_segments, selected_metric
from jaxdiag.experiment.multitask_eval import make_multitask_evaluator
from jaxdiag.experiment.multitask_step import make_multitask_step
from jaxdiag.models import as_model, build_model
from jaxdiag.monitor import activation_kinds

CONFIG = TrainConfig(steps=300, batch_size=32, log_every=50, eval_every=100, checkpoint_every=100,
                     select="")
DROPOUT_KEY = jax.random.key(2)
BATCH_KEY = jax.random.key(1)
KEY3 = jax.random.key(3)


def _mlp():
    return as_model(build_model("mlp", (8, 8, 1), 10, hidden=(32,), seed=0))


def _setup(model=None):
    splits = make_splits(load_digits(), None, seed=0)
    normalizer = fit_normalizer(splits["train"].data.x)
    arrays = {k: (normalize(s.data.x, normalizer), s.data.y) for k, s in splits.items()}
    model = model or _mlp()
    tx = make_optimizer(OptimizerConfig(learning_rate=3e-3))
    return (init_train_state(model.params, tx, model.state),
            make_train_step(cross_entropy_loss(model), tx, DROPOUT_KEY),
            make_evaluator(model, 10), arrays)


def _all_splits(evaluator, arrays):
    return lambda state: {name: evaluator(state.params, state.model_state, *a)
                          for name, a in arrays.items()}


def test_fit_logs_checkpoints_and_evaluates(tmp_path, tensorboard_scalars):
    state, step, evaluator, arrays = _setup()
    config = dataclasses.replace(CONFIG, select="error")
    result = fit(state, step, arrays["train"], _all_splits(evaluator, arrays), config, tmp_path,
                 key=BATCH_KEY, progress=False)
    assert int(result.state.step) == 300 and result.resumed_from is None
    assert [s for s, _ in result.history.train_loss] == [50, 100, 150, 200, 250, 300]
    assert [e["step"] for e in result.history.eval] == [100, 200, 300]
    assert result.final["train"].error < 0.05
    assert sorted(p.name for p in (tmp_path / "checkpoints" / "latest").iterdir()) == ["200", "300"]
    dev_errors = [e["dev"]["error"] for e in result.history.eval]
    best = int(np.argmin(dev_errors))  # the first of equal errors
    assert result.history.best_step == 100 * (best + 1)
    assert result.history.best_value == dev_errors[best]
    best_folder = tmp_path / "checkpoints" / "best"
    assert [p.name for p in best_folder.iterdir()] == [str(100 * (best + 1))]
    again = evaluator(result.best_params, result.best_model_state, *arrays["dev"])
    assert again.error == dev_errors[best]
    scalars = tensorboard_scalars(tmp_path / "tensorboard")
    for step, loss in result.history.train_loss:
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
def test_a_crashed_fit_resumes_to_identical_numbers(tmp_path, kind, tensorboard_scalars):
    def model():
        return _mlp() if kind == "mlp" else as_model(BatchNormDropoutNet(nnx.Rngs(0)))

    state, step, evaluator, arrays = _setup(model())
    evaluate = _all_splits(evaluator, arrays)
    whole = fit(state, step, arrays["train"], evaluate, CONFIG, tmp_path / "whole", key=BATCH_KEY,
                progress=False)
    if kind != "mlp":  # the running statistics were trained, carried and checkpointed
        assert not np.allclose(whole.state.model_state["norm"]["var"], 1.0)
        assert int(whole.state.model_state["drop"]["rngs"]["count"]) == 300  # one draw a step

    calls = []

    def crashing_evaluate(state):
        calls.append(1)
        if len(calls) > 2:  # dies in the evaluation at step 300, after the minibatch loss
            raise Killed    # of step 250 went to TensorBoard (purged on resume)
        return evaluate(state)

    state, step, evaluator, arrays = _setup(model())
    with pytest.raises(Killed):
        fit(state, step, arrays["train"], crashing_evaluate, CONFIG, tmp_path / "killed",
            key=BATCH_KEY, progress=False)
    state, step, evaluator, arrays = _setup(model())
    resumed = fit(state, step, arrays["train"], _all_splits(evaluator, arrays), CONFIG,
                  tmp_path / "killed", key=BATCH_KEY, progress=False)
    assert resumed.resumed_from == 200
    assert resumed.history == whole.history
    for a, b in zip(jax.tree.leaves(whole.state), jax.tree.leaves(resumed.state), strict=True):
        np.testing.assert_array_equal(a, b)
    for name in whole.final:
        assert resumed.final[name].loss == whole.final[name].loss
    scalars = tensorboard_scalars(tmp_path / "killed" / "tensorboard")
    assert scalars["minibatch/loss", 300] == pytest.approx(whole.history.train_loss[-1][1])


def test_a_monitored_fit_writes_statistics_and_histograms_to_tensorboard(tmp_path,
                                                                        tensorboard_values):
    _, _, evaluator, arrays = _setup()
    model = _mlp()
    kinds = activation_kinds(model, arrays["train"][0][:2])
    tx = make_optimizer(OptimizerConfig(learning_rate=3e-3))
    config = TrainConfig(steps=100, batch_size=32, log_every=50, eval_every=100,
                         checkpoint_every=100, select="")
    result = fit(init_train_state(model.params, tx),
                 make_train_step(cross_entropy_loss(model), tx, DROPOUT_KEY), arrays["train"],
                 _all_splits(evaluator, arrays), config, tmp_path, key=BATCH_KEY,
                 monitored_step=make_monitored_train_step(model, kinds, tx, DROPOUT_KEY),
                 kinds=kinds, progress=False)
    assert [r["step"] for r in result.history.monitor] == [50, 100]
    assert result.history.monitor[-1]["alerts"] == []
    values = tensorboard_values(tmp_path / "tensorboard")
    for step in (50, 100):
        histogram = values["activations/dense_0", step].histo
        assert sum(histogram.bucket) == 32 * 32  # batch x units
        assert len(histogram.bucket_limit) == 30 and histogram.min == 0.0  # after a ReLU
        assert values["gradients/dense_1/kernel/norm", step].simple_value > 0
        assert 0 <= values["activations/dense_0/dead_fraction", step].simple_value <= 1


@pytest.mark.parametrize("kind", ["mlp", "batchnorm+dropout"])
def test_monitoring_does_not_change_the_training_numbers(tmp_path, kind):
    model = _mlp() if kind == "mlp" else as_model(BatchNormDropoutNet(nnx.Rngs(0)))
    state, step, _, arrays = _setup(model)
    tx = make_optimizer(OptimizerConfig(learning_rate=3e-3))
    kinds = activation_kinds(model, arrays["train"][0][:2])
    plain = make_train_steps(step, 32, BATCH_KEY)
    monitored = make_train_steps(step, 32, BATCH_KEY,
                                 make_monitored_train_step(model, kinds, tx, DROPOUT_KEY))
    x, y = arrays["train"]
    a, losses_a = plain(state, x, y, num_steps=20)
    b, losses_b, _ = monitored(state, x, y, num_steps=20)
    np.testing.assert_allclose(losses_a, losses_b, rtol=1e-5)
    for p, q in zip(jax.tree_util.tree_leaves((a.params, a.model_state)),
                    jax.tree_util.tree_leaves((b.params, b.model_state)), strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-4, atol=1e-6)


KINDS = {"cls": "multiclass", "flag": "binary"}
WEIGHTS = {"cls": 1.0, "flag": 0.5}


def _problem():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 6)).astype(np.float32)
    cls = (x[:, 0] > 0).astype(np.int32) + (x[:, 1] > 0.5)
    flag = (x[:, 2] + x[:, 3] > 0).astype(np.int32)
    labels = {"cls": np.where(rng.random(96) < 0.5, -1, cls).astype(np.int32), "flag": flag}
    model = configured_multihead_model(ModelConfig(hidden=(16,)), (6,), {"cls": 3, "flag": 1})
    tx = optax.adam(1e-2)
    step = make_multitask_step(model.apply, KINDS, WEIGHTS, tx)
    evaluate = make_multitask_evaluator(model.apply, KINDS, WEIGHTS)
    dev = (x[:32], {"cls": cls[:32], "flag": flag[:32]})
    return (init_train_state(model.params, tx), step, (x, labels),
            lambda state: {"dev": evaluate(state.params, *dev)})


def _same_bits(a, b):
    return all(np.asarray(u).tobytes() == np.asarray(v).tobytes()
               for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True))


def test_resume_after_kill_equals_an_uninterrupted_run(tmp_path):
    config = TrainConfig(steps=60, batch_size=16, log_every=10, eval_every=20,
                         checkpoint_every=20, select="accuracy")
    state, step, train, evaluate = _problem()
    reference = fit(state, step, train, evaluate, config, tmp_path / "a", key=KEY3,
                    progress=False)

    def dies_at_step_40(state):  # killed during the second evaluation: latest is step 20
        if evaluate.calls == 1:
            raise Killed
        evaluate.calls += 1
        return evaluate(state)

    evaluate.calls = 0
    with pytest.raises(Killed):
        fit(state, step, train, dies_at_step_40, config, tmp_path / "b", key=KEY3,
            progress=False)
    resumed = fit(state, step, train, evaluate, config, tmp_path / "b", key=KEY3,
                  progress=False)
    assert resumed.resumed_from == 20
    assert _same_bits(resumed.state.params, reference.state.params)
    assert _same_bits(resumed.best_params, reference.best_params)
    assert json.dumps(resumed.history.as_dict()) == json.dumps(reference.history.as_dict())
    # A finished run resumes to the same result without training.
    again = fit(state, step, train, evaluate, config, tmp_path / "b", key=KEY3,
                progress=False)
    assert again.resumed_from == 60
    assert _same_bits(again.best_params, reference.best_params)


def test_early_stopping_keeps_the_best_checkpoint(tmp_path):
    config = TrainConfig(steps=400, batch_size=16, log_every=20, eval_every=20, select="loss",
                         patience=2)
    state, step, train, _ = _problem()
    dev_losses = iter([3.0, 2.0, 2.5, 2.4, 1.0])
    seen = {}

    def evaluate(state):
        loss = next(dev_losses)
        seen[loss] = state.params
        return {"dev": {"loss": loss, "accuracy": 0.5, "tasks": {}}}

    result = fit(state, step, train, evaluate, config, tmp_path, key=KEY3, progress=False)
    history = result.history
    assert history.stopped == "early_stopping"
    assert [e["step"] for e in history.eval] == [20, 40, 60, 80]
    assert history.best_step == 40 and history.best_value == 2.0
    assert _same_bits(result.best_params, seen[2.0])
    assert sorted(p.name for p in (tmp_path / "checkpoints" / "best").iterdir()) == ["40"]


def test_iterators_train_like_arrays_and_resume(tmp_path):
    state, step, (x, labels), evaluate = _problem()
    config = TrainConfig(steps=40, batch_size=16, log_every=10, eval_every=20,
                         checkpoint_every=20)

    def batches(start):
        for s in range(start, 10**6):
            rows = np.arange(16 * s, 16 * s + 16) % 96
            yield x[rows], {k: v[rows] for k, v in labels.items()}

    reference = fit(state, step, batches, evaluate, config, tmp_path / "a", key=KEY3,
                    progress=False)
    assert reference.state.step == 40 and len(reference.history.train_loss) == 4
    half = TrainConfig(steps=20, batch_size=16, log_every=10, eval_every=20,
                       checkpoint_every=20)
    fit(state, step, batches(0), evaluate, half, tmp_path / "b", key=KEY3, progress=False)
    resumed = fit(state, step, batches(0), evaluate, config, tmp_path / "b", key=KEY3,
                  progress=False)
    assert resumed.resumed_from == 20
    assert _same_bits(resumed.state.params, reference.state.params)
    with pytest.raises(ValueError, match="iterator of batches ended at step 3"):
        fit(state, step, iter([(x[:16], {k: v[:16] for k, v in labels.items()})] * 3),
            evaluate, config, tmp_path / "c", key=KEY3, progress=False)


def test_selected_metric():
    metrics = {"loss": 0.7, "accuracy": 0.8, "tasks": {"a": {"f1": 0.6, "roc_auc": None}}}
    assert selected_metric(metrics, "loss") == (0.7, True)
    assert selected_metric(metrics, "a.f1") == (0.6, False)
    assert np.isnan(selected_metric(metrics, "a.roc_auc")[0])


def test_run_segments_trains_logs_checkpoints_and_stops(tmp_path, tensorboard_scalars):
    """The loop of single runs and populations: segments from the resumed step, a checkpoint
    at each multiple of checkpoint_every passed and at the end, TensorBoard at each end."""
    trained, saved = [], []

    def segment(start, end):
        trained.append((start, end))
        return SegmentLog({"loss": float(end)}, {"end": str(end)})

    reached = run_segments(segment, [0, 3, 5, 8, 11, 12], start=3, save=saved.append,
                           checkpoint_every=5, log_dir=tmp_path)
    assert reached == 12
    assert trained == [(3, 5), (5, 8), (8, 11), (11, 12)]
    assert saved == [5, 11, 12]  # 5 and 10 passed, then the end
    assert tensorboard_scalars(tmp_path) == {("loss", e): float(e) for e in (5, 8, 11, 12)}

    trained.clear()
    saved.clear()

    def diverges_at_8(start, end):
        trained.append((start, end))
        return SegmentLog({}, stop=end == 8)

    assert run_segments(diverges_at_8, [0, 3, 5, 8, 11, 12], save=saved.append) == 8
    assert trained == [(0, 3), (3, 5), (5, 8)]
    assert saved == [3, 5, 8]  # every segment when checkpoint_every is None
