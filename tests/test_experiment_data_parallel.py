"""Data-parallel fit: a BatchNorm + Dropout NNX model trained with each minibatch split over
four CPU devices gives the numbers of one device, and the split is real (the compiled step
sums gradients across devices)."""

import jax
import pytest

from jaxdiag.experiment.data_parallel import data_parallel

FOUR_DEVICES = """
import dataclasses, json, tempfile, warnings
from pathlib import Path
import jax, numpy as np
from flax import nnx
from test_experiment_loop import (BATCH_KEY, CONFIG, DROPOUT_KEY, BatchNormDropoutNet,
                                  _all_splits, _setup)
from jaxdiag.experiment import (cross_entropy_loss, fit, init_train_state, make_optimizer,
                                make_train_step, make_train_steps)
from jaxdiag.experiment.config import OptimizerConfig
from jaxdiag.experiment.data_parallel import data_parallel, split_like
from jaxdiag.models import as_model

config = dataclasses.replace(CONFIG, steps=60, log_every=20, eval_every=60,
                             checkpoint_every=60)
out = {}
with tempfile.TemporaryDirectory() as folder:
    for name, devices in (("one", jax.devices()[:1]), ("four", None)):
        model = as_model(BatchNormDropoutNet(nnx.Rngs(0)))
        _, _, evaluator, arrays = _setup(model)
        # SGD: Adam divides the ~0 gradient of the bias before BatchNorm by its own root, so
        # there the order of float additions would show as differences of 1e-2
        tx = make_optimizer(OptimizerConfig(name="sgd", learning_rate=0.05))
        state = init_train_state(model.params, tx, model.state)
        step = make_train_step(cross_entropy_loss(model), tx, DROPOUT_KEY)
        result = fit(state, step, arrays["train"], _all_splits(evaluator, arrays), config,
                     Path(folder) / name, key=BATCH_KEY, progress=False, devices=devices)
        leaves = jax.tree.leaves((result.state.params, result.state.model_state))
        out[name] = {"losses": [loss for _, loss in result.history.train_loss],
                     "dev_error": result.final["dev"].error,
                     "dev_loss": result.final["dev"].loss,
                     "evaluation_split": str(getattr(split_like(
                         np.zeros((2, 32, 3)), result.state.params), "sharding", "as it is")),
                     "leaves": [np.asarray(leaf, np.float64).ravel().tolist() for leaf in leaves],
                     "devices": len(leaves[0].sharding.device_set)}
layout = data_parallel(32)
steps = make_train_steps(step, 32, BATCH_KEY, batch_sharding=layout.batch)
x, y = jax.device_put(arrays["train"], layout.replicated)
hlo = steps.lower(jax.device_put(state, layout.replicated), x, y, num_steps=2).compile()
out["all_reduce"] = "all-reduce" in hlo.as_text()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    out["devices_of_6"] = data_parallel(6).num_devices
out["warning"] = str(caught[0].message) if caught else ""
print(json.dumps(out))
"""


def test_four_devices_train_the_numbers_of_one(on_four_cpu_devices):
    out = on_four_cpu_devices(FOUR_DEVICES)
    one, four = out["one"], out["four"]
    assert (one["devices"], four["devices"]) == (1, 4)
    assert out["all_reduce"]  # the gradients (and BatchNorm's statistics) summed over devices
    # the same minibatches, dropout masks and global batch statistics: any of them drawn per
    # device would move the losses by far more than the order of float additions does
    assert four["losses"] == pytest.approx(one["losses"], rel=1e-5)
    assert four["dev_error"] == one["dev_error"]
    assert four["dev_loss"] == pytest.approx(one["dev_loss"], rel=1e-5)
    # evaluation goes data parallel with the params: its batches split like the training's
    assert "spec=P(None, 'batch')" in four["evaluation_split"]
    assert one["evaluation_split"] == "as it is"  # on one device
    for a, b in zip(one["leaves"], four["leaves"], strict=True):
        assert b == pytest.approx(a, rel=1e-5, abs=1e-6)
    assert out["devices_of_6"] == 3 and "batch_size 6" in out["warning"]  # 3 divides 6


def test_one_device_and_bad_arguments():
    layout = data_parallel(32)
    assert layout.num_devices == len(jax.devices())
    assert tuple(layout.batch.spec) == ("batch",) and tuple(layout.replicated.spec) == ()
    with pytest.raises(ValueError, match="devices: expected at least one device"):
        data_parallel(32, [])
    with pytest.raises(ValueError, match="batch_size: expected a positive integer, found 0"):
        data_parallel(0)
