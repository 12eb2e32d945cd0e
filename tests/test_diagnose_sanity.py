import math

import numpy as np
import pytest

from jaxdiag.data import fit_normalizer, load_digits, normalize
from jaxdiag.diagnose import chance_level_check, initial_loss_check, input_scale_check, label_check


def test_initial_loss_against_ln_c():
    ok = initial_loss_check(math.log(10) * 1.1, 10)
    assert ok.ok and ok.values["expected"] == pytest.approx(math.log(10))
    assert ok.values["ratio"] == pytest.approx(1.1) and ok.causes == ()
    high = initial_loss_check(12.0, 10)
    assert not high.ok and "too large" in high.causes[0]
    low = initial_loss_check(0.1, 10)
    assert not low.ok and "leak" in low.causes[1]
    assert not initial_loss_check(float("nan"), 10).ok
    with pytest.raises(ValueError, match="num_classes"):
        initial_loss_check(1.0, 1)


def test_input_scale_of_raw_and_normalized_digits():
    digits = load_digits()
    raw = input_scale_check(digits.x)
    assert not raw.ok and raw.values["mean"] == pytest.approx(digits.x.mean(), rel=1e-6)
    assert raw.values["max"] == 16.0 and raw.values["constant_features"] > 0
    normalized = input_scale_check(normalize(digits.x, fit_normalizer(digits.x)))
    assert normalized.ok and abs(normalized.values["mean"]) < 1e-5
    unit_interval = input_scale_check(digits.x / 16.0)
    assert unit_interval.ok  # images scaled to [0, 1] are fine
    assert not input_scale_check(np.full((4, 3), 0.5) * [[1, np.nan, 1]]).ok
    with pytest.raises(ValueError, match="x: expected"):
        input_scale_check(np.ones(5))


def test_label_counts_imbalance_and_missing_classes():
    check = label_check(np.array([0, 0, 0, 1, 2, 2]), 3)
    assert check.ok and check.values["counts"] == [3, 1, 2]
    assert check.values["imbalance"] == 3.0
    skewed = label_check(np.array([0] * 50 + [1] * 2), 2)
    assert not skewed.ok and skewed.values["imbalance"] == 25.0
    missing = label_check(np.array([0, 2, 2]), 3)
    assert not missing.ok and missing.values["missing"] == [1]
    assert missing.values["imbalance"] == math.inf
    with pytest.raises(ValueError, match=r"labels in \[0, 3\)"):
        label_check(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match="1-D integer"):
        label_check(np.array([0.0, 1.0]), 3)


def test_chance_level_by_hand():
    y_train = np.array([0] * 6 + [1] * 3 + [2])       # majority class 0
    y_split = np.array([0] * 6 + [1, 1, 2, 2])         # always-0 errs on 4 of 10: 40%
    # chance = min(0.4, 1 - 1/3) = 0.4; margin 2 sqrt(0.4 * 0.6 / 10) = 0.3098
    clear = chance_level_check("train_dev", 0.05, y_split, y_train, 3)
    assert clear.ok and clear.values["chance"] == pytest.approx(0.4)
    assert clear.values["majority_error"] == pytest.approx(0.4)
    assert clear.values["uniform_error"] == pytest.approx(2 / 3)
    at_chance = chance_level_check("train_dev", 0.3, y_split, y_train, 3, train_error=0.0)
    assert not at_chance.ok and at_chance.causes[0].startswith("labels do not match inputs")
    assert "memorizes" in at_chance.causes[1] and "training error is 0.0%" in at_chance.message
    learns_nothing = chance_level_check("d", 0.6, y_split, y_train, 3, train_error=0.6)
    assert not learns_nothing.values["train_below_chance"]
    assert learns_nothing.causes[0].startswith("the model learns nothing that beats chance")
    assert learns_nothing.causes[1].startswith("labels do not match inputs")


def test_input_statistics_over_blocks_of_rows_are_numpys(monkeypatch):
    """Blocks of rows bound the memory (a float64 copy of the input was 2x its size); the
    merged statistics are NumPy's float64 ones."""
    import jaxdiag.diagnose.sanity as sanity

    rng = np.random.default_rng(3)
    x = rng.normal(5.0, 3.0, (103, 4, 3)).astype(np.float32)
    x[:, 1, 2] = 7.0  # one constant feature
    whole = sanity.input_scale_check(x).values
    monkeypatch.setattr(sanity, "STATISTICS_ROWS", 10)
    values = sanity.input_scale_check(x).values
    reference = x.astype(np.float64)
    np.testing.assert_allclose([values["mean"], values["std"]],
                               [reference.mean(), reference.std()], rtol=1e-12)
    assert (values["min"], values["max"], values["constant_features"]) == (
        reference.min(), reference.max(), 1)
    assert whole == {**values, "mean": whole["mean"], "std": whole["std"]}
    x[50, 0, 0] = np.nan
    assert sanity.input_scale_check(x).values == {"non_finite": 1}
