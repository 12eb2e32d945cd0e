"""`import jaxdiag as jd`: the subpackages, lazily."""

import subprocess
import sys

import jax.numpy as jnp
import numpy as np
import pytest
import sklearn.metrics as sk

import jaxdiag as jd


def test_importing_jaxdiag_loads_no_subpackage_and_no_jax():
    code = ("import sys, jaxdiag; loaded = [m for m in sys.modules if m.startswith('jax')]; "
            "print(loaded)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "['jaxdiag']"


def test_the_subpackages_are_reached_from_the_top():
    assert dir(jd) == sorted([*jd.SUBPACKAGES, "__version__"])
    y_true, y_pred = [0, 1, 2, 2, 1], [0, 2, 2, 1, 1]
    assert float(jd.metrics.f1_score(y_true, y_pred, average="macro")) == pytest.approx(
        sk.f1_score(y_true, y_pred, average="macro"))
    assert jd.diagnose.bias_variance(0.01, 0.08, 0.10).dominant == "avoidable_bias"
    with pytest.raises(AttributeError, match="has no attribute 'metric'; expected one of"):
        _ = jd.metric


def test_gradcheck_is_callable_from_the_top_and_is_still_a_package():
    def loss(params, x):
        return jnp.sum(jnp.tanh(x @ params["w"]))

    params, x = {"w": jnp.asarray(np.linspace(-1, 1, 6).reshape(3, 2))}, jnp.ones((4, 3))
    report = jd.gradcheck(loss, params, x)
    assert report.ok and report == jd.gradcheck.gradcheck(loss, params, x)
    assert jd.gradcheck.GradcheckReport is type(report)
