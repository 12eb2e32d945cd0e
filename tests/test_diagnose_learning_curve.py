import numpy as np
import pytest

from jaxdiag.diagnose import PowerLaw, fit_power_law, learning_curve


def test_power_law_fit_recovers_a_known_law():
    sizes = np.array([50, 100, 200, 400, 800, 1600])
    law = PowerLaw(3.0, 0.6, 0.04)
    fitted = fit_power_law(sizes, law(sizes))
    assert fitted.b == pytest.approx(0.6, abs=0.05)
    assert fitted.c == pytest.approx(0.04, abs=0.005)
    np.testing.assert_allclose(fitted(sizes), law(sizes), atol=2e-3)
    flat = fit_power_law(sizes, np.full(6, 0.2))
    assert flat(3200) == pytest.approx(0.2, abs=1e-3)
    with pytest.raises(ValueError, match="3 distinct"):
        fit_power_law(np.array([10, 10, 20]), np.array([0.3, 0.3, 0.2]))


def make_task(n: int, seed: int, noisy_dev: bool):
    """A noiseless linear 3-class rule in 20 dimensions: 800 examples are far too few."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(20, 3))
    x = rng.normal(size=(n + 500, 20)).astype(np.float32)
    y = np.argmax(x @ w, axis=1)
    if noisy_dev:
        y[n:] = rng.integers(0, 3, 500)  # dev labels unrelated to the inputs
    return x[:n], y[:n], x[n:], y[n:]


def test_more_data_helps_a_data_starved_model():
    curve = learning_curve(*make_task(800, 0, False), 3, steps=300, width=32,
                           fractions=(1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0))
    assert curve.sizes.tolist() == [50, 100, 200, 400, 800]
    assert curve.dev_error[0] > curve.dev_error[-1] + 0.05
    assert np.all(curve.train_error <= curve.dev_error + 0.02)
    assert curve.more_data_helps and "likely to help" in curve.message
    assert curve.at_double < curve.dev_error[-1] + 0.01


def test_more_data_does_not_help_when_dev_labels_are_noise():
    curve = learning_curve(*make_task(800, 1, True), 3, steps=300, width=32)
    assert not curve.more_data_helps and "unlikely" in curve.message
    with pytest.raises(ValueError, match="fractions"):
        learning_curve(*make_task(100, 1, False), 3, fractions=(0.5, 1.0))
