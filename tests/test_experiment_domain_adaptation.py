import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdiag
from jaxdiag.experiment.domain_adaptation import (
    adaptation_loss,
    coral_loss,
    domain_confusion_loss,
    init_domain_head,
    reverse_gradient,
)


def _coral_float64(source: np.ndarray, target: np.ndarray) -> float:
    """Sun and Saenko's eq. 1-2 as written, in float64: C = (D'D - (1'D)'(1'D) / n) / (n - 1)."""
    def cov(d):
        ones = np.ones((1, len(d)))
        return (d.T @ d - (ones @ d).T @ (ones @ d) / len(d)) / (len(d) - 1)

    size = source.shape[1]
    return float(np.sum((cov(source) - cov(target)) ** 2) / (4 * size * size))


@pytest.mark.parametrize("shapes", [((32, 5), (40, 5)), ((2, 3), (7, 3)), ((64, 16), (64, 16))])
def test_coral_loss_equals_a_float64_numpy_computation(shapes):
    rng = np.random.default_rng(len(shapes[0]))
    source = rng.normal(size=shapes[0])
    target = 2.0 * rng.normal(size=shapes[1]) + 1.0
    got = coral_loss(jnp.asarray(source, jnp.float32), jnp.asarray(target, jnp.float32))
    np.testing.assert_allclose(float(got), _coral_float64(source, target), rtol=2e-5)
    same = jnp.asarray(source, jnp.float32)
    assert float(coral_loss(same, same + 3.0)) == pytest.approx(0.0, abs=1e-10)  # shifts only


def test_gradient_reversal_is_the_negated_scaled_identity():
    rng = np.random.default_rng(0)
    x, v = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    for scale in (1.0, 0.25):
        # by hand: d/dx sum(v * reverse(x)) = -scale * v, and the forward is the identity
        grad = jax.grad(lambda x, s=scale: jnp.sum(v * reverse_gradient(x, jnp.asarray(s))))(x)
        np.testing.assert_allclose(grad, -scale * v, rtol=1e-6)
        np.testing.assert_array_equal(reverse_gradient(jnp.asarray(x), jnp.asarray(scale)),
                                      jnp.asarray(x))
        # jaxdiag.gradcheck: finite differences see the identity, back-propagation its
        # reversal, so every coordinate's analytic derivative is -scale x the numerical one
        report = jaxdiag.gradcheck(
            lambda p, v, s=scale: jnp.sum(v * reverse_gradient(p["x"], jnp.asarray(s))),
            {"x": x}, v, float64=True)
        assert not report.ok and report.worst_coordinates
        for c in report.worst_coordinates:
            assert c.analytic == pytest.approx(-scale * c.numerical, rel=1e-6)
            assert c.numerical == pytest.approx(v[c.index], rel=1e-6)


def test_domain_confusion_trains_the_head_and_reverses_the_features():
    key = jax.random.key(0)
    head = init_domain_head(key, 3, hidden=8)
    source = jax.random.normal(jax.random.key(1), (16, 3))
    target = jax.random.normal(jax.random.key(2), (16, 3)) + 1.0
    # the head's gradient is the plain one: gradcheck passes on it
    report = jaxdiag.gradcheck(lambda h, s, t: domain_confusion_loss(h, s, t), head, source,
                               target, float64=True)
    assert report.ok, str(report)
    # the features' gradient is reversed: it equals minus the gradient without the reversal
    def plain(s, t):
        hidden = jax.nn.relu(jnp.concatenate([s, t]) @ head["w1"] + head["b1"])
        logits = (hidden @ head["w2"] + head["b2"])[:, 0]
        labels = jnp.concatenate([jnp.zeros(16), jnp.ones(16)])
        return jnp.mean(jnp.logaddexp(0, logits) - labels * logits)

    assert float(domain_confusion_loss(head, source, target)) == pytest.approx(
        float(plain(source, target)), rel=1e-6)
    reversed_grad = jax.grad(lambda s: domain_confusion_loss(head, s, target))(source)
    np.testing.assert_allclose(reversed_grad, -jax.grad(lambda s: plain(s, target))(source),
                               rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("method", ["coral", "dann"])
def test_the_adaptation_loss_draws_its_target_batch_from_the_key_and_the_step(method):
    rng = np.random.default_rng(3)
    x, x_target = jnp.asarray(rng.normal(size=(8, 3))), jnp.asarray(rng.normal(size=(20, 3)))
    params = {"w": jnp.asarray(rng.normal(size=(3, 4))),
              "domain": init_domain_head(jax.random.key(1), 4, hidden=5)}
    key = jax.random.key(7)

    def features(p, v):
        return jnp.tanh(v @ p["w"])

    loss = adaptation_loss(method, features, 0.5, x_target, key, lambda p: p["domain"])
    rows = jax.random.randint(jax.random.fold_in(key, 3), (8,), 0, 20)
    source, target = features(params, x), features(params, x_target[rows])
    expected = (coral_loss(source, target) if method == "coral"
                else domain_confusion_loss(params["domain"], source, target))
    assert float(loss(params, x, jnp.asarray(3))) == pytest.approx(0.5 * float(expected),
                                                                   rel=1e-6)
    assert float(loss(params, x, jnp.asarray(4))) != float(loss(params, x, jnp.asarray(3)))
