import numpy as np
import pytest
from scipy import stats

from jaxdiag.diagnose.remedy_effect import (
    RemedyEffect,
    paired_t_interval,
    remedy_effect,
    t_quantile,
)
from jaxdiag.search import Data, RemedyTask, mlp_task


@pytest.mark.parametrize("dof", [1, 2, 4, 9, 30])
def test_t_quantiles_equal_scipys(dof):
    for p in (0.9, 0.975, 0.995):
        assert t_quantile(p, dof) == pytest.approx(stats.t.ppf(p, dof), rel=2e-5)


def test_the_message_reads_the_verdict():
    effect = RemedyEffect("coral", (0.0, 1.0), 3, {}, 1.0, {"dev": 0.1, "test": 0.12},
                          {"dev": 0.08, "test": 0.09}, -0.03, (-0.05, -0.01), True)
    assert effect.message == ("coral (weight 1, picked on dev) lowers the test error: 12.00% -> "
                              "9.00% (-3.00 points, 95% interval [-5.00, -1.00] over 3 seeds)")
    same = effect._replace(significant=False, test_interval=(-0.05, 0.01))
    assert "does not significantly change the test error" in same.message


def test_bad_arguments_are_named():
    task = RemedyTask(mlp_task((4,), 2), "class_weights", (4,), class_weights=(1.0, 2.0))
    data = Data(np.zeros((8, 4), np.float32), np.zeros(8, int), np.zeros((2, 4), np.float32),
                np.zeros(2, int))
    splits = {"dev": (data.x_dev, data.y_dev)}
    common = {"steps": 2, "batch_size": 2, "learning_rate": 1e-3}
    with pytest.raises(ValueError, match="weights: expected at least one weight > 0"):
        remedy_effect(task, data, splits, weights=[0.0], **common)
    with pytest.raises(ValueError, match="seeds: expected an integer >= 2"):
        remedy_effect(task, data, splits, weights=[1.0], seeds=1, **common)
    with pytest.raises(ValueError, match="splits: expected a 'dev' split"):
        remedy_effect(task, data, {"test": splits["dev"]}, weights=[1.0], **common)


def test_paired_t_interval_equals_scipys():
    d = np.array([-0.02, -0.035, -0.01, -0.04, -0.025])
    mean, low, high = paired_t_interval(d)
    expected = stats.t.interval(0.95, len(d) - 1, loc=d.mean(), scale=stats.sem(d))
    assert mean == pytest.approx(d.mean())
    np.testing.assert_allclose([low, high], expected, rtol=1e-5)
    with pytest.raises(ValueError, match="differences: expected a 1-D array of at least 2"):
        paired_t_interval(np.array([0.1]))
