import jax
import numpy as np
import pytest

from jaxdiag.diagnose import dev_set_resolution, error_intervals, wilson_interval
from jaxdiag.diagnose.bootstrap import resampled_mistakes


def test_bootstrap_error_interval_matches_a_float64_numpy_bootstrap():
    """The binomial draw of the mistakes is the bootstrap over examples: its interval equals a
    NumPy bootstrap that resamples the examples' indices, to Monte-Carlo error."""
    n, mistakes, resamples = 500, 50, 4000
    wrong = np.zeros(n)
    wrong[:mistakes] = 1
    drawn = np.random.default_rng(0).integers(0, n, (resamples, n))
    reference = np.quantile(wrong[drawn].mean(axis=1), [0.025, 0.975])
    got = error_intervals({"train": mistakes, "dev": mistakes}, {"train": n, "dev": n}, 0.0,
                          resamples=resamples).splits["dev"]["bootstrap"]
    sd = np.sqrt(0.1 * 0.9 / n)  # the interval ends' Monte-Carlo error is about 0.06 sd
    np.testing.assert_allclose(got, reference, atol=0.3 * sd)


def test_bootstrap_interval_covers_the_true_error_95_percent_of_the_time():
    n, p, datasets = 500, 0.1, 2500  # the coverage's Monte-Carlo error: 0.44 points
    mistakes = np.random.default_rng(0).binomial(n, p, datasets)
    rates = np.asarray(resampled_mistakes(jax.random.key(1), mistakes, np.full(datasets, n),
                                          1000)) / n
    low, high = np.quantile(rates, [0.025, 0.975], axis=0)
    coverage = np.mean((low <= p) & (p <= high))
    assert abs(coverage - 0.95) <= 0.015, coverage


def _wilson_by_quadratic(k, n, z):
    """The Wilson interval as the roots in p of (k/n - p)^2 = z^2 p (1 - p) / n."""
    phat = k / n
    roots = np.roots([1 + z * z / n, -(2 * phat + z * z / n), phat * phat])
    return tuple(sorted(np.clip(roots.real, 0, 1)))


@pytest.mark.parametrize(("k", "n"), [(0, 20), (3, 20), (37, 360), (360, 360), (5000, 10000)])
def test_wilson_interval_solves_the_score_equation(k, n):
    np.testing.assert_allclose(wilson_interval(k, n), _wilson_by_quadratic(k, n, 1.959963985),
                               atol=1e-9)


@pytest.mark.parametrize("n", [18_114, 40_253, 102_644, 999_983])
def test_wilson_interval_holds_its_estimate_at_no_and_at_all_mistakes(n):
    """0 of 18,114 gave a lower end of 1.4e-20 from rounding: an interval above its estimate
    (the report's error bars refused it)."""
    assert wilson_interval(0, n)[0] == 0.0 and wilson_interval(n, n)[1] == 1.0
    low, high = wilson_interval(1, n)
    assert low <= 1 / n <= high


def test_gap_intervals_subtract_both_splits_and_hold_human_error_fixed():
    sizes = {"train": 1000, "train_dev": 200, "dev": 400, "test": 400}
    mistakes = {"train": 10, "train_dev": 6, "dev": 40, "test": 44}
    result = error_intervals(mistakes, sizes, 0.02)
    low, high = result.gaps["avoidable_bias"]
    assert (low, high) == pytest.approx(np.subtract(result.splits["train"]["wilson"], 0.02))
    no_mistakes = error_intervals({"train": 0, "dev": 5}, {"train": 900, "dev": 100}, 0.001)
    low, high = no_mistakes.gaps["avoidable_bias"]  # not the bootstrap's point at -0.1%
    assert low == -0.001 and high == pytest.approx(wilson_interval(0, 900)[1] - 0.001)
    assert high > 0
    for gap, (a, b) in {"variance": ("train_dev", "train"), "data_mismatch": ("dev", "train_dev"),
                        "dev_overfitting": ("test", "dev")}.items():
        low, high = result.gaps[gap]
        measured = mistakes[a] / sizes[a] - mistakes[b] / sizes[b]
        assert low < measured < high
        sd = np.hypot(*(np.sqrt(mistakes[s] / sizes[s] * (1 - mistakes[s] / sizes[s]) / sizes[s])
                        for s in (a, b)))
        assert high - low == pytest.approx(2 * 1.96 * sd, rel=0.15)
    assert error_intervals({"train": 1, "dev": 2}, {"train": 9, "dev": 9}, 0.0).gaps[
        "data_mismatch"] is None


def test_dev_set_resolution_solves_the_power_equation_and_its_power_holds_simulated():
    from scipy import optimize, stats

    def normal_power(d, n, e):
        z, m, f = stats.norm.ppf(0.975), e + d / 2, e + d
        return stats.norm.cdf((d - z * np.sqrt(2 * m * (1 - m) / n))
                              / np.sqrt((e * (1 - e) + f * (1 - f)) / n))

    for n, e in ((100, 0.1), (360, 0.1028), (10_000, 0.1), (5000, 0.01)):
        expected = optimize.brentq(lambda d, n=n, e=e: normal_power(d, n, e) - 0.8, 1e-9, 0.8)
        assert dev_set_resolution(n, e) == pytest.approx(expected, rel=1e-6)
    # two models d apart on independent dev sets of n: a two-sided pooled z test at 5%
    # rejects "no difference" with probability near the promised 0.8
    n, p = 2000, 0.1
    delta = dev_set_resolution(n, p)
    rng = np.random.default_rng(0)
    a, b = rng.binomial(n, p, 20_000) / n, rng.binomial(n, p + delta, 20_000) / n
    pooled = (a + b) / 2
    z = (b - a) / np.sqrt(2 * pooled * (1 - pooled) / n)
    assert np.mean(np.abs(z) > 1.959964) == pytest.approx(0.8, abs=0.02)
    assert dev_set_resolution(100, 0.0) > 0


@pytest.mark.parametrize(("call", "name"), [
    (lambda: wilson_interval(5, 0), "n"), (lambda: wilson_interval(6, 5), "mistakes"),
    (lambda: dev_set_resolution(100, 1.5), "error"),
    (lambda: dev_set_resolution(100, 0.1, confidence=1.0), "confidence"),
    (lambda: error_intervals({"dev": 1}, {"dev": 9}, 0.0), "sizes")])
def test_bad_arguments_name_themselves(call, name):
    with pytest.raises(ValueError, match=f"^{name}: expected"):
        call()
