import jax
import numpy as np
import pytest

from jaxdiag.search import Data, TransferTask, mlp_task, train_population

BASE = mlp_task((8,), 3, hidden=(16,), optimizer="adam")  # entries dense_0 (trunk), dense_1


def _data() -> Data:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 8)).astype(np.float32)
    y = np.argmax(x @ rng.normal(size=(8, 3)), axis=1)
    return Data(x[:150], y[:150], x[150:], y[150:])


SOURCE = BASE.init(jax.random.key(99), {"init_scale": 1.0})[0]  # a "pretrained" model


def _moved(result, member: int, entry: str) -> float:
    return max(float(np.abs(np.asarray(a[member]) - np.asarray(b)).max()) for a, b in zip(
        jax.tree.leaves(result.params[entry]), jax.tree.leaves(SOURCE[entry]), strict=True))


def test_members_start_from_the_source_trunk_with_heads_of_their_own():
    task = TransferTask(BASE, SOURCE, "dense_1")
    hp = {"init_scale": 1.0}
    one, _ = task.init(jax.random.key(1), hp)
    two, _ = task.init(jax.random.key(2), hp)
    fresh, _ = BASE.init(jax.random.key(1), hp)
    for a, b in zip(jax.tree.leaves(one["dense_0"]), jax.tree.leaves(SOURCE["dense_0"]),
                    strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(one["dense_1"]["kernel"], fresh["dense_1"]["kernel"])
    assert not np.array_equal(one["dense_1"]["kernel"], two["dense_1"]["kernel"])


@pytest.mark.parametrize("freeze, trunk_moves", [(0, True), (10, False)])
def test_the_trunk_trains_only_after_its_freeze(freeze, trunk_moves):
    task = TransferTask(BASE, SOURCE, "dense_1", freeze)
    result = train_population(task, {"learning_rate": np.full(2, 1e-2)}, np.array([1, 2]),
                              _data(), steps=10, batch_size=16)
    for member in (0, 1):
        assert (_moved(result, member, "dense_0") > 1e-4) == trunk_moves
    assert np.all(np.isfinite(result.train_loss))


def test_lp_ft_probes_then_fine_tunes():
    """Frozen for 5 steps: after 5 the trunk is the source's, after 10 it has moved, and the
    first 5 losses are those of the head-only run."""
    task = TransferTask(BASE, SOURCE, "dense_1", 5)
    first = train_population(task, {"learning_rate": np.full(1, 1e-2)}, np.array([1]), _data(),
                             steps=5, batch_size=16)
    both = train_population(task, {"learning_rate": np.full(1, 1e-2)}, np.array([1]), _data(),
                            steps=10, batch_size=16)
    probe = train_population(TransferTask(BASE, SOURCE, "dense_1", 10),
                             {"learning_rate": np.full(1, 1e-2)}, np.array([1]), _data(),
                             steps=10, batch_size=16)
    assert _moved(first, 0, "dense_0") == 0.0 and _moved(both, 0, "dense_0") > 1e-4
    np.testing.assert_allclose(both.train_loss[0, :6], probe.train_loss[0, :6], rtol=1e-6)


def test_a_head_or_source_that_does_not_fit_is_named():
    with pytest.raises(ValueError, match=r"head: expected one of the parameter entries \["):
        TransferTask(BASE, SOURCE, "head")
    wide = mlp_task((8,), 3, hidden=(32,)).init(jax.random.key(0), {"init_scale": 1.0})[0]
    with pytest.raises(ValueError, match="source: expected the trunk of MLP"):
        TransferTask(BASE, wide, "dense_1")
    with pytest.raises(ValueError, match="freeze_steps: expected an integer >= 0"):
        TransferTask(BASE, SOURCE, "dense_1", -1)
