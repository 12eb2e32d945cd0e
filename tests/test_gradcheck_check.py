import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from jaxdiag.gradcheck import gradcheck
from jaxdiag.models import functional


@jax.custom_vjp
def _matmul_wrong_vjp(x, w):
    return x @ w


def _matmul_fwd(x, w):
    return x @ w, (x, w)


def _matmul_bwd(residual, g):
    x, w = residual
    return g @ w.T, jnp.abs(x).T @ g  # the bug: |x| where x belongs


_matmul_wrong_vjp.defvjp(_matmul_fwd, _matmul_bwd)


@jax.custom_vjp
def _half_gradient(w):
    return w


_half_gradient.defvjp(lambda w: (w, None), lambda _, g: (0.5 * g,))


class TwoLayer(nnx.Module):
    """8 -> 16 -> 3 with a planted bug: None, "custom_vjp", "stop_gradient" or "scaled"."""

    def __init__(self, bug: str | None, rngs: nnx.Rngs):
        self.dense_0 = nnx.Linear(8, 16, rngs=rngs)
        self.dense_1 = nnx.Linear(16, 3, rngs=rngs)
        self.bug = bug

    def __call__(self, x):
        kernel_0 = self.dense_0.kernel[...]
        if self.bug == "scaled":
            kernel_0 = _half_gradient(kernel_0)
        h = jnp.tanh(x @ kernel_0 + self.dense_0.bias[...])
        bias_1 = self.dense_1.bias[...]
        if self.bug == "stop_gradient":
            bias_1 = jax.lax.stop_gradient(bias_1)
        if self.bug == "custom_vjp":
            return _matmul_wrong_vjp(h, self.dense_1.kernel[...]) + bias_1
        return h @ self.dense_1.kernel[...] + bias_1


def _problem(bug):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 8)).astype(np.float32)
    y = rng.integers(0, 3, 32)
    apply_fn, params = functional(TwoLayer(bug, nnx.Rngs(0)))

    def loss(params, x, y):
        return optax.softmax_cross_entropy_with_integer_labels(apply_fn(params, x), y).mean()

    return loss, params, x, y


@pytest.mark.parametrize("float64", [False, True])
@pytest.mark.parametrize(("bug", "wrong_leaf"), [(None, None),
                                                 ("custom_vjp", "dense_1/kernel"),
                                                 ("stop_gradient", "dense_1/bias"),
                                                 ("scaled", "dense_0/kernel")])
def test_each_planted_bug_is_pinned_to_its_leaf_and_a_correct_model_passes(bug, wrong_leaf,
                                                                           float64):
    loss, params, x, y = _problem(bug)
    report = gradcheck(loss, params, x, y, float64=float64, exhaustive_size=32)
    assert report.dtype == ("float64" if float64 else "float32")
    assert report.failed == ([] if wrong_leaf is None else [wrong_leaf]), str(report)
    assert report.ok is (wrong_leaf is None)
    if wrong_leaf is not None:
        assert report.worst_leaf == wrong_leaf
        assert report.worst_relative_error > 0.3
        assert f"FAILED at {wrong_leaf}" in str(report)
    else:
        assert report.worst_relative_error < report.rtol / 10


def test_stopped_bias_shows_zero_analytic_and_the_true_numerical_derivative():
    loss, params, x, y = _problem("stop_gradient")
    report = gradcheck(loss, params, x, y, float64=True)
    worst = report.worst_coordinates[0]
    assert worst.path == "dense_1/bias" and worst.analytic == 0.0
    true = jax.grad(_problem(None)[0])(params, x, y)["dense_1"]["bias"]
    np.testing.assert_allclose(worst.numerical, np.asarray(true)[worst.index], rtol=1e-6)


def test_a_quadratic_checks_every_coordinate_against_its_hand_computed_gradient():
    a = jnp.arange(1.0, 7.0).reshape(2, 3)

    def f(p):  # gradient 2 a * w, and 3 for b
        return jnp.sum(a * p["w"] ** 2) + 3 * p["b"][0]

    params = {"w": jnp.ones((2, 3)), "b": jnp.zeros((1,))}
    report = gradcheck(f, params, float64=True, top_coordinates=10)
    assert report.ok and set(report.leaves) == {"w", "b"}
    assert report.leaves["w"].num_coordinates == 6 and report.leaves["w"].num_directions == 0
    got = {(c.path, c.index): c.analytic for c in report.worst_coordinates}
    assert got[("b", (0,))] == pytest.approx(3.0)
    for i in range(2):
        for j in range(3):
            assert got[("w", (i, j))] == pytest.approx(2 * float(a[i, j]))


def test_a_linen_model_passes_and_its_leaves_are_named_by_module_path():
    class Net(nn.Module):
        @nn.compact
        def __call__(self, x):
            return nn.Dense(3)(nn.tanh(nn.Dense(16)(x)))

    x = np.random.default_rng(1).normal(size=(16, 5)).astype(np.float32)
    variables = Net().init(jax.random.key(0), x)
    report = gradcheck(lambda v, x: jnp.mean(Net().apply(v, x) ** 2), variables, x)
    assert report.ok, str(report)
    assert "params/Dense_1/kernel" in report.leaves


def test_bad_arguments_name_the_argument():
    loss, params, x, y = _problem(None)
    with pytest.raises(ValueError, match="num_directions"):
        gradcheck(loss, params, x, y, num_directions=-1)
    with pytest.raises(ValueError, match="eps"):
        gradcheck(loss, params, x, y, eps=0.0)
    with pytest.raises(ValueError, match=r"args: expected arguments that fn\(params, \*args\) "
                       r"accepts, found arrays of shapes \[\(3, 5\)\] .* dot_general"):
        gradcheck(lambda p, x: (x @ p["w"]).sum(), {"w": jnp.ones((4, 2))}, jnp.ones((3, 5)))
    with pytest.raises(ValueError, match="fn: expected a scalar"):
        gradcheck(lambda p, x: x @ p["w"], {"w": jnp.ones((5, 2))}, jnp.ones((3, 5)))
    with pytest.raises(ValueError, match="params"):
        gradcheck(lambda p: jnp.sum(p), jnp.arange(3))


def test_integer_and_key_leaves_of_an_nnx_model_with_dropout_are_held_fixed():
    """Issue 25's crash: Dropout's RNG count (uint32) and key used to be differentiated."""

    class Net(nnx.Module):
        def __init__(self, rngs):
            self.dense = nnx.Linear(4, 3, rngs=rngs)
            self.dropout = nnx.Dropout(0.5, rngs=rngs)

        def __call__(self, x):
            return self.dropout(self.dense(x))

    model = Net(nnx.Rngs(0))
    model.eval()
    graphdef, state = nnx.split(model)
    params = nnx.to_pure_dict(state)
    assert jnp.issubdtype(params["dropout"]["rngs"]["count"].dtype, jnp.unsignedinteger)

    def loss(p, x):
        return jnp.sum(nnx.merge(graphdef, p)(x) ** 2)

    report = gradcheck(loss, params, jnp.linspace(-1, 1, 8).reshape(2, 4), float64=True)
    assert report.ok and sorted(report.leaves) == ["dense/bias", "dense/kernel"]


def test_an_nnx_module_is_checked_over_its_params_with_batchnorm_and_dropout_fixed():
    class Net(nnx.Module):
        def __init__(self, rngs):
            self.dense = nnx.Linear(4, 6, rngs=rngs)
            self.norm = nnx.BatchNorm(6, rngs=rngs)
            self.dropout = nnx.Dropout(0.5, rngs=rngs)
            self.out = nnx.Linear(6, 3, rngs=rngs)

        def __call__(self, x):
            return self.out(self.dropout(jnp.tanh(self.norm(self.dense(x)))))

    model = Net(nnx.Rngs(0))
    model.eval()  # BatchNorm's running statistics, no dropout: a deterministic function
    x = jnp.asarray(np.random.default_rng(0).normal(size=(8, 4)), jnp.float32)

    def loss(module, x):
        return jnp.mean(module(x) ** 2)

    report = gradcheck(loss, model, x, float64=True)
    assert report.ok and sorted(report.leaves) == [
        "dense/bias", "dense/kernel", "norm/bias", "norm/scale", "out/bias", "out/kernel"]
    expected = nnx.grad(loss)(model, x)["out"]["kernel"][...]  # NNX's own gradient
    assert report.loss == pytest.approx(float(loss(model, x)), rel=1e-5)
    assert np.isfinite(np.asarray(expected)).all()
