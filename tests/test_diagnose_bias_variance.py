import numpy as np
import pytest

from jaxdiag.diagnose import ACTIONS, bias_variance


def test_ng_avoidable_bias_example():
    result = bias_variance(human_error=0.01, train_error=0.08, dev_error=0.10)
    assert result.gaps["avoidable_bias"] == pytest.approx(0.07)
    assert result.gaps["variance"] == pytest.approx(0.02)
    assert result.dominant == "avoidable_bias"
    assert result.actions == ACTIONS["avoidable_bias"]
    assert result.gaps["data_mismatch"] is None and result.gaps["dev_overfitting"] is None


def test_ng_variance_example():
    result = bias_variance(human_error=0.075, train_error=0.08, dev_error=0.10)
    assert result.gaps["avoidable_bias"] == pytest.approx(0.005)
    assert result.dominant == "variance"


def test_ng_data_mismatch_example_with_a_train_dev_set():
    result = bias_variance(0.0, 0.01, 0.10, train_dev_error=0.015, test_error=0.11)
    assert result.gaps["variance"] == pytest.approx(0.005)
    assert result.gaps["data_mismatch"] == pytest.approx(0.085)
    assert result.gaps["dev_overfitting"] == pytest.approx(0.01)
    assert result.dominant == "data_mismatch"


def test_overfitting_to_dev_and_nothing_to_fix():
    assert bias_variance(0.01, 0.01, 0.02, 0.015, test_error=0.10).dominant == "dev_overfitting"
    calm = bias_variance(0.01, 0.011, 0.012, tolerance=0.005)
    assert calm.dominant is None and calm.actions == ()


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"human_error": -0.1}, "human_error"), ({"train_error": 8.0}, "train_error"),
     ({"dev_error": float("nan")}, "dev_error"), ({"train_dev_error": 1.5}, "train_dev_error"),
     ({"test_error": "0.1"}, "test_error"), ({"human_error": None}, "human_error"),
     ({"dev_error": None}, "dev_error"), ({"train_error": True}, "train_error")],
)
def test_errors_must_be_fractions(kwargs, name):
    args = {"human_error": 0.01, "train_error": 0.02, "dev_error": 0.03, **kwargs}
    with pytest.raises(ValueError, match=f"{name}: expected an error fraction in"):
        bias_variance(**args)


def test_numpy_scalars_are_fractions_too():
    result = bias_variance(np.float32(0.01), np.float64(0.08), np.float32(0.10))
    assert result.dominant == "avoidable_bias"
    assert result.gaps["avoidable_bias"] == pytest.approx(0.07)


def test_a_gap_whose_interval_contains_zero_is_not_significant_nor_dominant():
    intervals = {"avoidable_bias": (-0.01, 0.02), "variance": (0.001, 0.05),
                 "data_mismatch": (-0.03, 0.15), "dev_overfitting": None}
    result = bias_variance(0.0, 0.04, 0.10, train_dev_error=0.05, intervals=intervals)
    assert result.gaps["data_mismatch"] == pytest.approx(0.05)  # the largest, not significant
    assert result.significant == {"avoidable_bias": False, "variance": True,
                                  "data_mismatch": False, "dev_overfitting": False}
    assert result.dominant == "variance"
    nothing = bias_variance(0.0, 0.04, 0.10, train_dev_error=0.05,
                            intervals={**intervals, "variance": (-0.001, 0.02)})
    assert nothing.dominant is None and nothing.actions == ()
