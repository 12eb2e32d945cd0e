import jax
import jax.numpy as jnp
import numpy as np

from jaxdiag.models import Model
from jaxdiag.monitor import layer_histograms


def _net(params, x):
    hidden = x @ params["w1"] + params["b1"]
    return jnp.tanh(hidden) @ params["w2"] + params["b2"], {"hidden": hidden}


def _loss(params, state, x, y, key):
    logits, _ = _net(params, x)
    return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(len(y)), y]), state


def _model(params) -> Model:
    return Model(lambda p, s, x, k, t: (_net(p, x)[0], s), params, {},
                 lambda p, s, x, k, t: (_net(p, x)[0], s, _net(p, x)[1]), "tanh net")


def _numpy_gradients(params, x, y):
    """The float64 gradient of the mean cross-entropy of a tanh net, derived by hand."""
    p = {k: np.asarray(v, np.float64) for k, v in params.items()}
    h = np.tanh(x @ p["w1"] + p["b1"])
    logits = h @ p["w2"] + p["b2"]
    soft = np.exp(logits - logits.max(1, keepdims=True))
    soft /= soft.sum(1, keepdims=True)
    d_logits = (soft - np.eye(logits.shape[1])[y]) / len(y)
    d_pre = d_logits @ p["w2"].T * (1 - h**2)
    return {"b1": d_pre.sum(0), "b2": d_logits.sum(0), "w1": x.T @ d_pre, "w2": h.T @ d_logits}


def test_histograms_match_numpy_for_activations_and_hand_derived_gradients():
    rng = np.random.default_rng(0)
    params = {"w1": rng.normal(0, 0.5, (6, 16)), "b1": rng.normal(0, 0.1, 16),
              "w2": rng.normal(0, 0.5, (16, 4)), "b2": np.zeros(4)}
    params = {k: v.astype(np.float32) for k, v in params.items()}
    x = rng.normal(size=(32, 6)).astype(np.float32)
    y = rng.integers(0, 4, 32)
    snap = jax.jit(lambda p, x, y: layer_histograms(_model(p), _loss, {"hidden": "tanh"}, p, {},
                                                    x, y, jax.random.key(0), bins=12))(
        params, x, y)
    counts, edges = snap["activations"]["hidden"]
    expected, expected_edges = np.histogram(np.tanh(x @ params["w1"] + params["b1"]), bins=12)
    np.testing.assert_allclose(edges, expected_edges, rtol=1e-5, atol=1e-6)
    assert np.abs(np.asarray(counts) - expected).sum() <= 2  # float32 ties at bin edges
    reference = _numpy_gradients(params, x.astype(np.float64), y)
    assert sorted(snap["gradients"]) == sorted(reference)
    for name, gradient in reference.items():
        counts, edges = snap["gradients"][name]
        expected, expected_edges = np.histogram(gradient, bins=12)
        np.testing.assert_allclose(edges, expected_edges, rtol=1e-4, atol=1e-7)
        assert counts.shape == (12,) and float(counts.sum()) == gradient.size
        assert np.abs(np.asarray(counts) - expected).sum() <= 2
