"""How sure each error and each gap is: intervals, significance and the dev set's resolution.

Ng's rule: the dev set must be big enough to detect the differences you care about (with 100
examples a 0.1% gain is invisible; with 10,000 it is not). These say what a run can detect:
Wilson intervals for each split's error (closed form), bootstrap intervals for each gap of the
bias / variance / mismatch decomposition (every split resampled at once, in one compiled call),
and ``dev_set_resolution``, the smallest difference a dev set of n examples detects.

References:
  E. B. Wilson, Probable inference, the law of succession, and statistical inference, JASA 22
  (1927); L. D. Brown, T. T. Cai and A. DasGupta, Interval estimation for a binomial
  proportion, Statistical Science 16 (2001).
"""

import functools
import math
from collections.abc import Mapping
from statistics import NormalDist
from typing import NamedTuple

import jax
import numpy as np

from jaxdiag.checks import require
from jaxdiag.diagnose.bias_variance import gap_terms
from jaxdiag.diagnose.bootstrap import percentile_interval, resampled_mistakes

CONFIDENCE = 0.95
RESAMPLES = 2000


def _z(probability: float) -> float:
    return NormalDist().inv_cdf(probability)


def _check_confidence(confidence: float, name: str = "confidence") -> None:
    require(0 < confidence < 1, name, "a value in (0, 1)", confidence)


def check_bootstrap(confidence: float, resamples: int) -> None:
    """Raises the ``require`` error for a confidence outside (0, 1) or under 100 resamples."""
    _check_confidence(confidence)
    require(resamples >= 100, "resamples", "an integer >= 100", resamples)


def wilson_interval(mistakes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson's score interval of an error rate of ``mistakes`` wrong out of ``n`` (closed form;
    near-nominal coverage even at 0 or n mistakes, where the normal interval collapses)."""
    require(n > 0, "n", "a positive number of examples", n)
    require(0 <= mistakes <= n, "mistakes", f"an integer in [0, {n}]", mistakes)
    _check_confidence(confidence)
    z = _z((1 + confidence) / 2)
    p = mistakes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # the ends hold p: centre - half rounds to 1e-20 above 0 at 0 mistakes out of 18,114
    return min(max(0.0, centre - half), p), max(min(1.0, centre + half), p)


def dev_set_resolution(n: int, error: float, confidence: float = CONFIDENCE,
                       power: float = 0.8) -> float:
    """The smallest increase d of an error rate e that a dev set of ``n`` examples detects: a
    two-sided z test at ``confidence`` tells e from e + d with probability ``power`` (Ng's
    dev-set sizing). The two-proportion sample-size rule, solved for d:

        d = z_{(1 + confidence) / 2} sqrt(2 m (1 - m) / n)
            + z_{power} sqrt((e (1 - e) + f (1 - f)) / n)

    with f = e + d and m = e + d / 2 (e (1 - e) is floored at (1 / n)(1 - 1 / n), so that
    e = 0 still needs examples). Example: n = 10,000 at e = 10%: 1.22 points at 95%
    confidence and 80% power; n = 100: 15.0 points. With ``power`` 0.5 it is about the
    half-width of the interval of a measured difference: a smaller gain is not significant.
    """
    require(n > 0, "n", "a positive number of examples", n)
    require(0 <= error <= 1, "error", "a fraction in [0, 1]", error)
    _check_confidence(confidence)
    _check_confidence(power, "power")
    floor = (1 / n) * (1 - 1 / n)

    def spread(p: float) -> float:
        p = min(p, 1.0)
        return max(p * (1 - p), floor)

    z_a, z_b = _z((1 + confidence) / 2), _z(power)
    d = 0.0
    for _ in range(100):  # a contraction: d grows to its fixed point in a few steps
        new = (z_a * math.sqrt(2 * spread(error + d / 2) / n)
               + z_b * math.sqrt((spread(error) + spread(error + d)) / n))
        if abs(new - d) < 1e-12:
            break
        d = new
    return d


class ErrorIntervals(NamedTuple):
    """Intervals of a run's errors and gaps, all at one ``confidence``.

    Attributes:
      splits: {split: {"error", "size", "wilson": (low, high), "bootstrap": (low, high)}}.
      gaps: {gap: (low, high) or None where the gap is not defined}: percentile intervals of
        the gap over resamples of both splits it subtracts; the avoidable bias, train error
        minus the fixed human-level error, is the train error's Wilson interval shifted.
      confidence, resamples: the intervals' level and the number of bootstrap resamples.
    """

    splits: dict[str, dict]
    gaps: dict[str, tuple[float, float] | None]
    confidence: float
    resamples: int

    def as_dict(self) -> dict:
        return {"confidence": self.confidence, "resamples": self.resamples,
                "splits": {k: {**v, "wilson": list(v["wilson"]), "bootstrap": list(v["bootstrap"])}
                           for k, v in self.splits.items()},
                "gaps": {k: None if v is None else list(v) for k, v in self.gaps.items()}}


@functools.partial(jax.jit, static_argnames="resamples")
def _draw(key, mistakes, sizes, resamples):
    return resampled_mistakes(key, mistakes, sizes, resamples)


def error_intervals(
    mistakes: Mapping[str, int],
    sizes: Mapping[str, int],
    human_error: float,
    *,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> ErrorIntervals:
    """Intervals of each split's error and of each gap of ``bias_variance``.

    Args:
      mistakes, sizes: per split ("train", "dev"[, "train_dev", "test", others]), how many
        examples the model got wrong and how many there are.
      human_error: the decomposition's fixed human-level error.
      confidence: the level of every interval.
      resamples: bootstrap resamples of every split, drawn in one compiled call.
      seed: the resamples' seed.

    Returns:
      ErrorIntervals: Wilson and bootstrap intervals of each split, bootstrap intervals of
      each gap.
    """
    check_bootstrap(confidence, resamples)
    names = list(sizes)
    for name in ("train", "dev"):
        require(name in sizes, "sizes", "the splits 'train' and 'dev' at least", names)
    counts = np.array([sizes[s] for s in names])
    drawn = np.asarray(_draw(jax.random.key(seed), np.array([mistakes[s] for s in names]),
                             counts, resamples), np.float64) / counts
    samples = {name: drawn[:, i] for i, name in enumerate(names)}
    splits = {name: {"error": mistakes[name] / sizes[name], "size": int(sizes[name]),
                     "wilson": wilson_interval(int(mistakes[name]), int(sizes[name]), confidence),
                     "bootstrap": percentile_interval(samples[name], confidence)}
              for name in names}
    terms = gap_terms("train_dev" in sizes, "test" in sizes)
    # against the fixed human-level error the closed form holds, and it does not collapse to a
    # point at 0 mistakes as the bootstrap does
    low, high = splits["train"]["wilson"]
    gaps = {gap: (low - human_error, high - human_error) if gap == "avoidable_bias" else
            None if term is None else
            percentile_interval(samples[term[0]] - samples[term[1]], confidence)
            for gap, term in terms.items()}
    return ErrorIntervals(splits, gaps, confidence, resamples)
