import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdiag.data import DomainShift, load_digits
from jaxdiag.search import (
    Data,
    RemedyTask,
    inverse_frequency_weights,
    minibatch_indices,
    mlp_task,
    train_population,
)
from jaxdiag.search.population import TARGET_STREAM

SHAPE = (8, 8, 1)
BASE = mlp_task(SHAPE, 10, hidden=(16, 16), optimizer="adam")
STEPS, BATCH, SEED = 30, 16, 7


@pytest.fixture(scope="module")
def digits() -> tuple[Data, np.ndarray]:
    d = load_digits()
    x = (d.x / 16.0).astype(np.float32)
    target = np.clip(0.6 * x + 0.2, 0, 1).astype(np.float32)  # a lower-contrast camera
    return Data(x[:600], d.y[:600], x[600:800], d.y[600:800]), target[800:1200]


def _train(task, data, weights, steps=STEPS):
    k = len(weights)
    hparams = {"learning_rate": np.full(k, 3e-3)}
    if "remedy_weight" in task.traced_hparams:
        hparams["remedy_weight"] = np.asarray(weights, float)
    return train_population(task, hparams, np.full(k, SEED), data, steps=steps,
                            batch_size=BATCH)


def _coral64(source: np.ndarray, target: np.ndarray) -> float:
    cs, ct = np.cov(source, rowvar=False), np.cov(target, rowvar=False)
    return float(np.sum((cs - ct) ** 2) / (4 * source.shape[1] ** 2))


def _coral_step_zero(task, data, target, weight) -> float:
    """Step 0's loss of a CORAL member by hand: cross-entropy of the source batch plus the
    weight times CORAL (float64 NumPy) of dense_1's features of the source batch and of the
    target batch its own stream draws."""
    params, state = task.init(jax.random.fold_in(jax.random.key(SEED), 0),
                              {"init_scale": 1.0, "dropout": 0.0})
    source_rows = np.asarray(minibatch_indices(SEED, np.arange(1), BATCH, 600))[0]
    target_rows = np.asarray(minibatch_indices(SEED ^ TARGET_STREAM, np.arange(1), BATCH,
                                               len(target)))[0]
    batch = jnp.concatenate([data.x_train[source_rows], target[target_rows]])
    logits, _, layers = BASE.template.capture(params["model"], state, batch, None, True)
    features = np.asarray(layers["dense_1"], np.float64).reshape(2 * BATCH, -1)
    ce = float(optax.softmax_cross_entropy_with_integer_labels(
        logits[:BATCH], data.y_train[source_rows]).mean())
    coral = _coral64(features[:BATCH], features[BATCH:])
    assert coral > 1e-5  # the two domains' features differ
    return ce + weight * coral


@pytest.mark.parametrize("remedy, weight", [("coral", 100.0), ("dann", 1.0),
                                            ("synthesis", 1.0)])
def test_a_member_trains_with_its_remedy_at_its_weight_and_at_zero_without(digits, remedy,
                                                                           weight):
    data, target = digits
    task = RemedyTask(BASE, remedy, SHAPE)
    assert task.needs_target == (remedy != "synthesis") and task.feature_layer == "dense_1"
    plain = _train(BASE, data, [0.0])
    with_target = data._replace(x_target=target) if task.needs_target else data
    result = _train(task, with_target, [0.0, weight])
    np.testing.assert_allclose(result.train_loss[0], plain.train_loss[0], rtol=1e-5)
    assert np.all(np.isfinite(result.train_loss))
    assert not np.allclose(result.train_loss[1], plain.train_loss[0], rtol=1e-3)  # it acts
    if remedy == "coral":
        np.testing.assert_allclose(result.train_loss[1, 0],
                                   _coral_step_zero(task, data, target, weight), rtol=1e-4)
    if remedy == "dann":  # the domain head learns, and only with a weight
        start, _ = task.init(jax.random.fold_in(jax.random.key(SEED), 0),
                             {"init_scale": 1.0, "dropout": 0.0})
        moved = [float(jnp.abs(result.params["domain_head"]["w1"][i]
                               - start["domain_head"]["w1"]).max()) for i in (0, 1)]
        assert moved[0] == 0.0 and moved[1] > 1e-4, moved


def test_class_weights_weigh_each_example_by_its_class(digits):
    data, _ = digits
    weights = inverse_frequency_weights(np.array([0, 0, 0, 1]), 3)
    assert weights == (4 / 9, 4 / 3, 1.0)
    per_class = tuple(float(w) for w in np.linspace(0.5, 2.0, 10))
    task = RemedyTask(BASE, "class_weights", SHAPE, class_weights=per_class)
    hp = {"init_scale": 1.0, "dropout": 0.0, "remedy_weight": 0.5}
    params, state = task.init(jax.random.key(0), hp)
    x, y = data.x_train[:32], data.y_train[:32]
    loss, _ = task.loss(params, state, x, y, None, hp)
    logits = np.asarray(BASE.logits(params["model"], state, x), np.float64)
    log_p = logits - np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1,
                                                                             keepdims=True)) \
        - logits.max(1, keepdims=True)
    w = np.array(per_class)[y] ** 0.5
    np.testing.assert_allclose(float(loss), -np.sum(w * log_p[np.arange(32), y]) / w.sum(),
                               rtol=1e-5)


def test_remedy_errors_name_what_is_wrong(digits):
    data, target = digits
    with pytest.raises(ValueError, match="remedy: expected one of"):
        RemedyTask(BASE, "mixup", SHAPE)
    with pytest.raises(ValueError, match=r"layer: expected one of \['dense_0', 'dense_1'"):
        RemedyTask(BASE, "coral", SHAPE, layer="conv")
    with pytest.raises(ValueError, match="input_shape: expected an image shape"):
        RemedyTask(mlp_task((5,), 2), "synthesis", (5,))
    with pytest.raises(ValueError, match="class_weights: expected a positive weight"):
        RemedyTask(BASE, "class_weights", SHAPE)
    with pytest.raises(ValueError, match=r"data.x_target: expected the target domain.*None"):
        _train(RemedyTask(BASE, "coral", SHAPE), data, [1.0])
    with pytest.raises(ValueError, match=r"data.x_target: expected no .*shape \(400, 8, 8, 1\)"):
        _train(BASE, data._replace(x_target=target), [0.0])
    with pytest.raises(ValueError, match=r"hparams\['remedy_weight'\]: expected values >= 0"):
        _train(RemedyTask(BASE, "synthesis", SHAPE), data, [-1.0])
    assert RemedyTask(BASE, "synthesis", SHAPE, shift=DomainShift(contrast=0.5)).uses_key(
        np.zeros(1))


def test_balanced_members_draw_by_class_and_weight_zero_as_the_plain_model(digits):
    data, _ = digits
    rare = np.flatnonzero(data.y_train < 5)[::10]  # classes 0-4 at a tenth of their examples
    keep = np.sort(np.concatenate([rare, np.flatnonzero(data.y_train >= 5)]))
    imbalanced = data._replace(x_train=data.x_train[keep], y_train=data.y_train[keep])
    task = RemedyTask(BASE, "balanced", SHAPE, num_classes=10)
    assert task.balanced_classes == 10
    assert task.traced_hparams == (*BASE.traced_hparams, "remedy_weight")
    plain = _train(BASE, imbalanced, [0.0])
    result = _train(task, imbalanced, [0.0, 1.0])
    np.testing.assert_allclose(result.train_loss[0], plain.train_loss[0], rtol=1e-5)
    assert not np.allclose(result.train_loss[1], plain.train_loss[0], rtol=1e-3)
    with pytest.raises(ValueError, match="num_classes: expected an integer >= 2"):
        RemedyTask(BASE, "balanced", SHAPE)
