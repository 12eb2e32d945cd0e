import numpy as np
import pytest

from jaxdiag.diagnose import PATHOLOGY_CAUSES, loss_curve_pathologies

STEPS = np.arange(1, 201) * 10


def healthy(seed: int, noise: float = 0.25) -> np.ndarray:
    """Exponential decay from ln(10) towards 0.05 with multiplicative minibatch noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(len(STEPS))
    return (0.05 + 2.25 * np.exp(-t / 30)) * rng.lognormal(0, noise, len(t))


def kinds(losses: np.ndarray) -> list[str]:
    return [f.kind for f in loss_curve_pathologies(STEPS, losses)]


@pytest.mark.parametrize("noise", [0.05, 0.25, 0.4])
def test_no_alarm_on_healthy_noisy_curves(noise):
    for seed in range(20):
        assert kinds(healthy(seed, noise)) == [], seed


def test_no_alarm_on_spikes_or_additive_noise():
    rng = np.random.default_rng(0)
    curve = healthy(1)
    curve[[60, 130, 170]] *= 4  # a few bad minibatches
    assert kinds(curve) == []
    t = np.arange(len(STEPS))
    additive = 0.3 + 2.0 * np.exp(-t / 50) + rng.normal(0, 0.05, len(t))
    assert kinds(additive) == []


def test_nan_and_jump_explode_at_the_right_step():
    curve = healthy(2)
    curve[120:] = np.nan
    [finding] = loss_curve_pathologies(STEPS, curve)
    assert (finding.kind, finding.step) == ("explodes", STEPS[120])
    assert finding.causes == PATHOLOGY_CAUSES["explodes"]
    curve = healthy(3)
    curve[90:] = 1e4
    found = loss_curve_pathologies(STEPS, curve)
    assert (found[0].kind, found[0].step) == ("explodes", STEPS[90])


def test_a_curve_of_chunk_means_that_starts_after_the_blow_up():
    curve = np.concatenate([[1e5], np.full(199, 2.3)])  # the first chunk's mean holds it
    assert kinds(curve) == ["plateaus"]  # the stuck level is seen, the blow-up is not
    [finding] = loss_curve_pathologies(STEPS, curve, initial_loss=2.3)
    assert (finding.kind, finding.step) == ("explodes", STEPS[0])


def test_goes_up_from_the_start_and_after_a_minimum():
    rng = np.random.default_rng(4)
    t = np.arange(len(STEPS))
    assert kinds(2.3 + 0.01 * t + rng.normal(0, 0.05, len(t))) == ["goes_up"]
    down_up = np.where(t < 80, 2.3 - 2.0 * t / 80, 0.3 + 1.7 * (t - 80) / 120)
    found = loss_curve_pathologies(STEPS, down_up + rng.normal(0, 0.05, len(t)))
    assert [f.kind for f in found] == ["goes_up"]
    assert STEPS[80] < found[0].step < STEPS[199]


def test_oscillates():
    rng = np.random.default_rng(5)
    t = np.arange(len(STEPS))
    assert kinds(1.5 + (-1.0) ** t + rng.normal(0, 0.05, len(t))) == ["oscillates"]
    switching = np.where(rng.random(len(t)) < 0.5, 0.4, 2.5) * rng.lognormal(0, 0.1, len(t))
    assert kinds(switching) == ["oscillates"]


def test_plateaus_at_the_start_and_after_a_small_drop():
    rng = np.random.default_rng(6)
    t = np.arange(len(STEPS))
    assert kinds(2.3 + rng.normal(0, 0.02, len(t))) == ["plateaus"]
    stalled = np.maximum(2.3 - 0.02 * t, 1.7) + rng.normal(0, 0.02, len(t))
    assert kinds(stalled) == ["plateaus"]


def test_a_converged_flat_curve_is_not_a_plateau():
    t = np.arange(len(STEPS))
    assert kinds(np.maximum(2.3 - 0.1 * t, 0.02)) == []


def test_short_curves_and_bad_input():
    assert loss_curve_pathologies([], []) == []
    assert loss_curve_pathologies(STEPS[:3], [2.3, 2.0, np.inf])[0].kind == "explodes"
    assert loss_curve_pathologies(STEPS[:3], [2.3, 2.0, 1.9]) == []
    with pytest.raises(ValueError, match="steps, losses"):
        loss_curve_pathologies(STEPS, np.ones(3))
    with pytest.raises(ValueError, match="steps: expected increasing"):
        loss_curve_pathologies([1, 1, 2], [1.0, 1.0, 1.0])
