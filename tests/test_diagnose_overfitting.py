import numpy as np
import pytest

from jaxdiag.diagnose.overfitting import overfitting_from_curves

STEPS = [100, 200, 300, 400, 500]


def test_dev_loss_rising_while_train_falls_is_named_with_the_best_step():
    found = overfitting_from_curves(STEPS, [1.0, 0.6, 0.4, 0.3, 0.2], [0.9, 0.6, 0.45, 0.5, 0.53])
    assert found is not None and found.best_step == 300
    assert (found.best_dev_loss, found.final_dev_loss) == (0.45, 0.53)
    assert (found.train_loss_at_best, found.final_train_loss) == (0.4, 0.2)
    assert "stop early, at step 300" in found.message


@pytest.mark.parametrize(("train", "dev"), [
    ([1.0, 0.6, 0.4, 0.3, 0.2], [0.9, 0.6, 0.45, 0.44, 0.43]),   # dev still falling
    ([1.0, 0.6, 0.4, 0.3, 0.2], [0.9, 0.6, 0.45, 0.46, 0.455]),  # a rise within noise
    ([1.0, 0.6, 0.4, 0.5, 0.6], [0.9, 0.6, 0.45, 0.55, 0.65]),   # train rising too: not this
    ([1.0, 0.6, np.nan, np.nan, np.nan], [0.9, 0.6, np.nan, np.nan, np.nan]),  # diverged
])
def test_no_signature_no_finding(train, dev):
    assert overfitting_from_curves(STEPS, train, dev) is None


def test_lengths_must_match():
    with pytest.raises(ValueError, match="expected equal lengths, found 5, 4, 5"):
        overfitting_from_curves(STEPS, [1.0] * 4, [1.0] * 5)
