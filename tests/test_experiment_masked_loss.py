import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdiag.experiment.masked_loss import masked_task_loss, multitask_loss


def _reference(logits, labels, kind):
    """float64 NumPy mean loss over the entries with label >= 0."""
    logits, labels = np.asarray(logits, np.float64), np.asarray(labels)
    keep = labels >= 0
    if kind == "multiclass":
        shifted = logits - logits.max(-1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
        losses = -log_p[np.arange(len(labels)), np.where(keep, labels, 0)]
    else:
        losses = np.logaddexp(0, logits) - np.where(keep, labels, 0) * logits
    return losses[keep].sum() / max(keep.sum(), 1)


@pytest.mark.parametrize("kind,shape", [("multiclass", (12, 4)), ("binary", (12,)),
                                        ("binary", (12, 3))])
def test_loss_matches_float64_reference(kind, shape):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=shape).astype(np.float32)
    label_shape = shape[:1] if kind == "multiclass" else shape
    labels = rng.integers(0, shape[-1] if kind == "multiclass" else 2, label_shape)
    labels = np.where(rng.random(label_shape) < 0.4, -1, labels)
    np.testing.assert_allclose(masked_task_loss(logits, labels, kind),
                               _reference(logits, labels, kind), rtol=1e-5)


@pytest.mark.parametrize("kind", ["multiclass", "binary"])
def test_missing_labels_contribute_exactly_zero_gradient(kind):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(16, 5)).astype(np.float32)
    width = 3 if kind == "multiclass" else 1
    params = {"w": jnp.asarray(rng.normal(size=(5, width)), jnp.float32)}
    labels = rng.integers(0, width if kind == "multiclass" else 2, 16)
    missing = np.arange(16) % 3 == 0
    labels = np.where(missing, -1, labels)

    def loss(params, x, labels):
        logits = x @ params["w"]
        return masked_task_loss(logits if kind == "multiclass" else logits[:, 0], labels, kind)

    # The gradient with respect to an unlabelled example's logits is exactly zero...
    logits = x @ params["w"]
    per_logit = jax.grad(lambda z: masked_task_loss(
        z if kind == "multiclass" else z[:, 0], labels, kind))(logits)
    assert np.all(np.asarray(per_logit)[missing] == 0.0)
    assert np.all(np.abs(np.asarray(per_logit)[~missing]).sum(-1) > 0)
    # ... so the parameters' gradient is that of the labelled examples alone, whatever the
    # unlabelled examples' inputs are.
    full = jax.grad(loss)(params, x, labels)
    labelled_only = jax.grad(loss)(params, x[~missing], labels[~missing])
    np.testing.assert_allclose(full["w"], labelled_only["w"], rtol=1e-6)
    x_changed = np.where(missing[:, None], 1e3, x).astype(np.float32)
    np.testing.assert_allclose(jax.grad(loss)(params, x_changed, labels)["w"], full["w"],
                               rtol=1e-6)


def test_mask_array_and_all_missing():
    logits = jnp.asarray([[2.0, -1.0], [0.5, 0.5], [-3.0, 1.0]])
    labels = jnp.asarray([[1, 0], [0, 1], [1, 1]])
    mask = jnp.asarray([[True, False], [False, False], [True, True]])
    expected = _reference(logits, np.where(mask, labels, -1), "binary")
    np.testing.assert_allclose(masked_task_loss(logits, labels, "binary", mask), expected,
                               rtol=1e-6)
    none = jnp.full((3, 2), -1)
    assert float(masked_task_loss(logits, none, "binary")) == 0.0
    assert np.all(np.asarray(jax.grad(masked_task_loss)(logits, none, "binary")) == 0.0)
    with pytest.raises(ValueError, match="kind"):
        masked_task_loss(logits, labels, "regression")


def test_multitask_loss_is_the_weighted_sum():
    outputs = {"a": jnp.asarray([[1.0, 0.0, -1.0], [0.2, 0.1, 0.0]]),
               "b": jnp.asarray([0.3, -2.0])}
    labels = {"a": jnp.asarray([2, -1]), "b": jnp.asarray([1, 0])}
    total, losses = multitask_loss(outputs, labels, {"a": "multiclass", "b": "binary"},
                                   {"a": 0.5, "b": 2.0})
    expected = (0.5 * _reference(outputs["a"], labels["a"], "multiclass")
                + 2.0 * _reference(outputs["b"], labels["b"], "binary"))
    np.testing.assert_allclose(total, expected, rtol=1e-6)
    assert set(losses) == {"a", "b"}


def test_class_weights_weigh_each_labelled_entry_by_its_class():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(20, 3)).astype(np.float32)
    labels = np.where(rng.random(20) < 0.3, -1, rng.integers(0, 3, 20))
    weights = np.array([0.5, 2.0, 1.0])
    keep = labels >= 0
    shifted = logits.astype(np.float64) - logits.max(-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    w = weights[labels[keep]]
    expected = -(w * log_p[np.flatnonzero(keep), labels[keep]]).sum() / w.sum()
    got = masked_task_loss(logits, labels, "multiclass", class_weights=jnp.asarray(weights))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    ones = masked_task_loss(logits, labels, "multiclass", class_weights=jnp.ones(3))
    np.testing.assert_allclose(ones, masked_task_loss(logits, labels, "multiclass"), rtol=1e-6)
    with pytest.raises(ValueError, match="class_weights: expected None for a 'binary' task"):
        masked_task_loss(logits[:, 0], np.zeros(20, int), "binary", class_weights=jnp.ones(2))
