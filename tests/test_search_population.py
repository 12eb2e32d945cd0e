
import jax
import numpy as np
import pytest

from jaxdiag.search import (
    Data,
    minibatch_indices,
    mlp_task,
    train_population,
)
from jaxdiag.search.task import evaluate

TASK = mlp_task((8,), 3, hidden=(16, 16), dropout=True)
STEPS, BATCH = 40, 16


def make_data(seed: int = 0) -> Data:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(400, 8)).astype(np.float32)
    y = np.argmax(x @ rng.normal(size=(8, 3)), axis=1)
    return Data(x[:300], y[:300], x[300:], y[300:])


DATA = make_data()
HPARAMS = {"learning_rate": np.array([0.3, 0.1, 0.03, 0.01, 0.2, 0.05]),
           "momentum": np.array([0.9, 0.5, 0.0, 0.9, 0.8, 0.7]),
           "dropout": np.array([0.0, 0.1, 0.2, 0.0, 0.3, 0.0]),
           "weight_decay": np.array([0.0, 1e-3, 0.0, 1e-4, 0.0, 0.0]),
           "init_scale": np.array([1.0, 0.5, 2.0, 1.0, 1.0, 1.5])}
SEEDS = np.arange(6) + 10


def train(hparams=HPARAMS, seeds=SEEDS, steps=STEPS, **kwargs):
    return train_population(TASK, hparams, seeds, DATA, steps=steps, batch_size=BATCH, **kwargs)


def test_members_train_alone_as_they_do_together():
    together = train()
    assert together.members_per_chunk == 8  # 6 members computed as 8: one program
    assert np.all(np.isfinite(together.train_loss))
    assert np.all(together.train_loss[:, -5:].mean(1) < together.train_loss[:, :5].mean(1))
    for i in (0, 4):
        alone = train({k: v[i:i + 1] for k, v in HPARAMS.items()}, SEEDS[i:i + 1], chunk=1)
        np.testing.assert_allclose(alone.train_loss[0], together.train_loss[i], rtol=2e-5)
        np.testing.assert_allclose(alone.dev_error[0], together.dev_error[i])


def test_a_member_matches_a_plain_optax_loop():
    """The population's member 1 against an independent single-model training loop."""
    import jax
    import optax

    i = 1
    hp = {k: np.float32(v[i]) for k, v in HPARAMS.items()}
    hp["dropout"] = np.float32(0.0)
    key = jax.random.key(SEEDS[i])
    params, model_state = TASK.init(jax.random.fold_in(key, 0), hp)
    tx = optax.chain(optax.add_decayed_weights(hp["weight_decay"]),
                     optax.sgd(hp["learning_rate"], hp["momentum"]))
    state = tx.init(params)
    losses = []
    batches = np.asarray(minibatch_indices(SEEDS[i], np.arange(STEPS), BATCH,
                                           len(DATA.x_train)))
    for batch in batches:
        logits_loss = lambda p, b=batch: optax.softmax_cross_entropy_with_integer_labels(  # noqa: E731
            TASK.logits(p, model_state, DATA.x_train[b]), DATA.y_train[b]).mean()
        loss, grads = jax.value_and_grad(logits_loss)(params)
        updates, state = tx.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        losses.append(float(loss))
    hparams = {k: v[i:i + 1] for k, v in HPARAMS.items()} | {"dropout": np.zeros(1)}
    member = train(hparams, SEEDS[i:i + 1])
    np.testing.assert_allclose(member.train_loss[0], losses, rtol=1e-4)


def test_a_diverging_member_is_frozen_and_the_others_are_bit_identical():
    exploding = {k: v.copy() for k, v in HPARAMS.items()}
    exploding["learning_rate"][2] = 1e6
    bad, good = train(exploding), train()
    assert bad.failed_at[2] >= 0 and np.all(np.delete(bad.failed_at, 2) == -1)
    assert np.isnan(bad.train_loss[2, bad.failed_at[2]:]).all()
    assert np.isnan(bad.dev_error[2])
    others = np.arange(6) != 2
    np.testing.assert_array_equal(bad.train_loss[others], good.train_loss[others])
    np.testing.assert_array_equal(bad.dev_error[others], good.dev_error[others])


def test_halving_keeps_the_best_and_compaction_changes_no_number():
    """The halved population also runs as two concurrent groups (of 4, then 2 and 1 members)
    and must still give the numbers of the whole population run as one."""
    full = train(rungs=(10, 20), keep_fraction=1.0, steps=30, groups=1)
    halved = train(rungs=(10, 20), keep_fraction=0.5, steps=30, groups=2, chunk=2)
    assert halved.groups == 2
    at_10 = full.rungs[10]
    order = np.lexsort((at_10["dev_loss"], at_10["dev_error"]))
    first = set(order[:3])
    assert set(np.flatnonzero(halved.stopped_at > 10)) == first
    at_20 = full.rungs[20]
    kept = sorted(first, key=lambda i: (at_20["dev_error"][i], at_20["dev_loss"][i], i))[:2]
    assert set(np.flatnonzero(halved.stopped_at == 30)) == set(kept)
    for i in kept:  # survivors computed in a smaller population give the same numbers
        np.testing.assert_allclose(halved.train_loss[i], full.train_loss[i], rtol=2e-5)
    stopped = np.flatnonzero(halved.stopped_at == 10)
    assert np.isnan(halved.train_loss[stopped, 10:]).all()
    np.testing.assert_allclose(halved.dev_error[stopped], at_10["dev_error"][stopped])
    # each member's parameters are those at its last step, stopped early or not
    for i in range(len(SEEDS)):
        params, model_state = (jax.tree.map(lambda v, i=i: v[i], tree)
                               for tree in (halved.params, halved.model_state))
        error, loss = evaluate(TASK, params, model_state, DATA.x_dev, DATA.y_dev)
        np.testing.assert_allclose(error, halved.dev_error[i])
        np.testing.assert_allclose(loss, halved.dev_loss[i], rtol=1e-5)


class _Killed(Exception):
    pass


def test_a_killed_population_resumes_from_its_checkpoint_to_the_same_numbers(
        tmp_path, tensorboard_scalars):
    """Halving at step 20, checkpoints every 10 steps: killed in the segment ending at 30, the
    rerun resumes from step 20 (after the rung) and ends as an uninterrupted run, and so do
    its TensorBoard scalars."""
    whole = train(rungs=(20,), keep_fraction=0.5)

    def dies_at_30(step):
        if step == 30:
            raise _Killed

    checkpoints, events = tmp_path / "checkpoints", tmp_path / "tensorboard"
    with pytest.raises(_Killed):
        train(rungs=(20,), keep_fraction=0.5, checkpoint_dir=checkpoints, checkpoint_every=10,
              on_segment=dies_at_30, log_dir=events)
    assert sorted(p.name for p in checkpoints.iterdir()) == ["10", "20"]
    reached = []
    resumed = train(rungs=(20,), keep_fraction=0.5, checkpoint_dir=checkpoints,
                    checkpoint_every=10, on_segment=reached.append, log_dir=events)
    assert reached == [30, 40]  # nothing before the checkpoint is trained again
    scalars = tensorboard_scalars(events)
    assert [scalars["population/running", s] for s in (10, 20, 30, 40)] == [6, 6, 3, 3]
    for end in (20, 40):  # the rung and the end, where the result keeps every dev error
        errors = whole.rungs[end]["dev_error"]
        assert scalars["population/dev_error_best", end] == pytest.approx(np.nanmin(errors))
        assert scalars["population/dev_error_median", end] == pytest.approx(
            np.nanmedian(errors))
    survivors = whole.stopped_at == 40
    assert scalars["population/minibatch_loss", 40] == pytest.approx(
        np.median(whole.train_loss[survivors, 30:40].mean(axis=1)), rel=1e-5)
    np.testing.assert_array_equal(resumed.stopped_at, whole.stopped_at)
    np.testing.assert_allclose(resumed.train_loss, whole.train_loss, rtol=2e-5)
    np.testing.assert_allclose(resumed.dev_error, whole.dev_error)
    np.testing.assert_allclose(resumed.dev_loss, whole.dev_loss, rtol=2e-5)
    for a, b in zip(jax.tree.leaves(resumed.params), jax.tree.leaves(whole.params), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="checkpoint_every: expected a positive step count"):
        train(checkpoint_every=10)


def test_a_member_with_a_train_mask_trains_as_on_its_subset_alone():
    rng = np.random.default_rng(3)
    masks = rng.random((len(SEEDS), len(DATA.y_train))) < np.linspace(0.1, 1, 6)[:, None]
    masked = train(train_masks=masks)
    for i in (0, 3):
        subset = DATA._replace(x_train=DATA.x_train[masks[i]], y_train=DATA.y_train[masks[i]])
        alone = train_population(TASK, {k: v[i:i + 1] for k, v in HPARAMS.items()},
                                 SEEDS[i:i + 1], subset, steps=STEPS, batch_size=BATCH, chunk=1)
        np.testing.assert_allclose(alone.train_loss[0], masked.train_loss[i], rtol=1e-4)
    with pytest.raises(ValueError, match="train_masks: expected a bool array"):
        train(train_masks=masks[:2])
    masks[2] = False
    with pytest.raises(ValueError, match="none for member 2"):
        train(train_masks=masks)


def test_bad_hyperparameters_are_errors_naming_them():
    with pytest.raises(ValueError, match=r"hparams\['learning_rate'\]: expected values > 0, "
                                         r"found -0.1 \(member 1\)"):
        train({"learning_rate": np.array([0.1, -0.1])}, np.arange(2))
    with pytest.raises(ValueError, match=r"hparams\['dropout'\]: expected values in \[0, 1\)"):
        train({"learning_rate": np.ones(2), "dropout": np.array([0.0, 1.0])}, np.arange(2))
    with pytest.raises(ValueError, match=r"hparams: expected names among .* found 'lr'"):
        train({"lr": np.ones(2)}, np.arange(2))
    with pytest.raises(ValueError, match=r"rungs: expected increasing steps in \(0, 40\)"):
        train(rungs=(20, 10))
    with pytest.raises(ValueError, match=r"seeds: expected a non-empty 1-D integer array"):
        train(seeds=np.array([0.5] * 6))
    with pytest.raises(ValueError, match="groups: expected a positive integer"):
        train(groups=-1)
    assert train(groups=3, steps=2).groups == 1  # 6 members run as 8: 3 groups cannot split 8


SHARDED = """
import json, sys
from test_search_population import train
result = train(rungs=(20,), keep_fraction=0.5)
json.dump({"loss": result.train_loss.tolist(), "error": result.dev_error.tolist(),
           "stopped": result.stopped_at.tolist()}, sys.stdout)
"""


# 30-35 s (a fresh process compiles every program); the default run keeps the sharded path of
# test_search_model_task's four-device test, this adds halving over the devices
@pytest.mark.slow
def test_four_cpu_devices_give_the_results_of_one(on_four_cpu_devices):
    sharded = on_four_cpu_devices(SHARDED)
    single = train(rungs=(20,), keep_fraction=0.5)  # 6 members: padded to 8 over 4 devices
    np.testing.assert_array_equal(sharded["stopped"], single.stopped_at)
    np.testing.assert_allclose(np.array(sharded["loss"], float), single.train_loss, rtol=2e-5)
    np.testing.assert_allclose(np.array(sharded["error"], float), single.dev_error)
