import json

import jax
import numpy as np
import optax
import pytest

from jaxdiag.experiment import init_train_state
from jaxdiag.experiment.heads import configured_multihead_model
from jaxdiag.experiment.multitask_config import FitConfig, TrunkConfig
from jaxdiag.experiment.multitask_eval import make_multitask_evaluator
from jaxdiag.experiment.multitask_fit import fit_tasks, selected_metric
from jaxdiag.experiment.multitask_step import make_multitask_step

KINDS = {"cls": "multiclass", "flag": "binary"}
WEIGHTS = {"cls": 1.0, "flag": 0.5}


def _problem():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 6)).astype(np.float32)
    cls = (x[:, 0] > 0).astype(np.int32) + (x[:, 1] > 0.5)
    flag = (x[:, 2] + x[:, 3] > 0).astype(np.int32)
    labels = {"cls": np.where(rng.random(96) < 0.5, -1, cls).astype(np.int32), "flag": flag}
    model = configured_multihead_model(TrunkConfig(hidden=(16,)), (6,), {"cls": 3, "flag": 1})
    tx = optax.adam(1e-2)
    step = make_multitask_step(model.apply, KINDS, WEIGHTS, tx)
    evaluate = make_multitask_evaluator(model.apply, KINDS, WEIGHTS)
    dev = (x[:32], {"cls": cls[:32], "flag": flag[:32]})
    return init_train_state(model.params, tx), step, (x, labels), lambda p: evaluate(p, *dev)


def _same_bits(a, b):
    return all(np.asarray(u).tobytes() == np.asarray(v).tobytes()
               for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True))


class Killed(Exception):
    pass


def test_resume_after_kill_equals_an_uninterrupted_run(tmp_path):
    config = FitConfig(steps=60, batch_size=16, log_every=10, eval_every=20, select="accuracy")
    state, step, train, evaluate = _problem()
    reference = fit_tasks(state, step, train, evaluate, config, tmp_path / "a", seed=3,
                          progress=False)

    def dies_at_step_40(params):  # killed during the second evaluation: latest is step 20
        if evaluate.calls == 1:
            raise Killed
        evaluate.calls += 1
        return evaluate(params)

    evaluate.calls = 0
    with pytest.raises(Killed):
        fit_tasks(state, step, train, dies_at_step_40, config, tmp_path / "b", seed=3,
                  progress=False)
    resumed = fit_tasks(state, step, train, evaluate, config, tmp_path / "b", seed=3,
                        progress=False)
    assert resumed.resumed_from == 20
    assert _same_bits(resumed.state.params, reference.state.params)
    assert _same_bits(resumed.best_params, reference.best_params)
    assert json.dumps(resumed.history) == json.dumps(reference.history)
    # A finished run resumes to the same result without training.
    again = fit_tasks(state, step, train, evaluate, config, tmp_path / "b", seed=3,
                      progress=False)
    assert again.resumed_from == 60
    assert _same_bits(again.best_params, reference.best_params)


def test_early_stopping_keeps_the_best_checkpoint(tmp_path):
    config = FitConfig(steps=400, batch_size=16, log_every=20, eval_every=20, select="loss",
                       patience=2)
    state, step, train, _ = _problem()
    dev_losses = iter([3.0, 2.0, 2.5, 2.4, 1.0])
    seen = {}

    def evaluate(params):
        loss = next(dev_losses)
        seen[loss] = params
        return {"loss": loss, "accuracy": 0.5, "tasks": {}}

    result = fit_tasks(state, step, train, evaluate, config, tmp_path, progress=False)
    history = result.history
    assert history["stopped"] == "early_stopping"
    assert [e["step"] for e in history["eval"]] == [20, 40, 60, 80]
    assert history["best_step"] == 40 and history["best_value"] == 2.0
    assert _same_bits(result.best_params, seen[2.0])
    assert sorted(p.name for p in (tmp_path / "checkpoints" / "best").iterdir()) == ["40"]


def test_iterators_train_like_arrays_and_resume(tmp_path):
    state, step, (x, labels), evaluate = _problem()
    config = FitConfig(steps=40, batch_size=16, log_every=10, eval_every=20)

    def batches(start):
        for s in range(start, 10**6):
            rows = np.arange(16 * s, 16 * s + 16) % 96
            yield x[rows], {k: v[rows] for k, v in labels.items()}

    reference = fit_tasks(state, step, batches, evaluate, config, tmp_path / "a",
                          progress=False)
    assert reference.state.step == 40 and len(reference.history["train_loss"]) == 4
    half = FitConfig(steps=20, batch_size=16, log_every=10, eval_every=20)
    fit_tasks(state, step, batches(0), evaluate, half, tmp_path / "b", progress=False)
    resumed = fit_tasks(state, step, batches(0), evaluate, config, tmp_path / "b",
                        progress=False)
    assert resumed.resumed_from == 20
    assert _same_bits(resumed.state.params, reference.state.params)
    with pytest.raises(ValueError, match="iterator of batches ended at step 3"):
        fit_tasks(state, step, iter([(x[:16], {k: v[:16] for k, v in labels.items()})] * 3),
                  evaluate, config, tmp_path / "c", progress=False)


def test_selected_metric():
    metrics = {"loss": 0.7, "accuracy": 0.8, "tasks": {"a": {"f1": 0.6, "roc_auc": None}}}
    assert selected_metric(metrics, "loss") == (0.7, True)
    assert selected_metric(metrics, "a.f1") == (0.6, False)
    assert np.isnan(selected_metric(metrics, "a.roc_auc")[0])
