"""Samplers: each proposes a batch of k points of a space at once (one batch = one population).

Every sampler is deterministic: the points depend only on its seed, how many points were
asked before (``asked``) and the observations so far, so a resumed sweep asks again for
exactly the points it would have asked.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from jaxdiag.search import gaussian_process
from jaxdiag.search.sobol import sobol
from jaxdiag.search.space import Space

Observation = tuple[dict[str, Any], float]  # (point, objective to minimize; NaN if it failed)


class Sampler(Protocol):
    def ask(self, space: Space, k: int, asked: int,
            observed: Sequence[Observation]) -> list[dict[str, Any]]:
        """Up to ``k`` new points; fewer (or none) when the sampler is exhausted."""
        ...


@dataclass(frozen=True)
class GridSampler:
    """The points of ``space.grid(points_per_axis)`` in order, k at a time."""

    points_per_axis: int = 3

    def ask(self, space, k, asked, observed):
        return space.grid(self.points_per_axis)[asked:asked + k]


@dataclass(frozen=True)
class RandomSampler:
    """Independent uniform points of the unit cube (Bergstra and Bengio, 2012)."""

    seed: int = 0

    def ask(self, space, k, asked, observed):
        rng = np.random.default_rng([self.seed, asked])
        return space.decode(rng.random((k, space.dimension)))


@dataclass(frozen=True)
class SobolSampler:
    """Scrambled Sobol points: quasi-random exploration, as the Deep Learning Tuning
    Playbook recommends; a batch of 2^m points is balanced in every coordinate."""

    seed: int = 0

    def ask(self, space, k, asked, observed):
        return space.decode(sobol(k, space.dimension, start=asked, seed=self.seed))


@dataclass(frozen=True)
class GPSampler:
    """Gaussian-process Bayesian optimization (Matérn 5/2, fitted hyperparameters, expected
    improvement, kriging-believer batches).

    The first ``initial`` points (at least 2) are Sobol points; afterwards each batch maximizes
    expected improvement over ``candidates`` Sobol points plus Gaussian steps around the
    best observations. Failed trials (NaN objective) count as the worst value seen.
    """

    seed: int = 0
    initial: int = 8
    candidates: int = 2048

    def ask(self, space, k, asked, observed):
        finite = [value for _, value in observed if np.isfinite(value)]
        if asked < max(self.initial, 2) or len(finite) < 2:
            return SobolSampler(self.seed).ask(space, k, asked, observed)
        x = space.encode([point for point, _ in observed])
        worst = max(finite)
        y = np.array([value if np.isfinite(value) else worst for _, value in observed])
        rng = np.random.default_rng([self.seed, asked])
        best = x[np.argsort(y)[:8]]
        local = best[rng.integers(0, len(best), self.candidates // 2)]
        local = np.clip(local + rng.normal(0, 0.05, local.shape), 0, 1 - 1e-9)
        candidates = np.concatenate(
            [sobol(self.candidates, space.dimension, seed=self.seed + asked), local])
        chosen = gaussian_process.propose_batch(x, y, candidates, k, self.seed + asked)
        return space.decode(candidates[chosen])


SAMPLERS = {"grid": GridSampler, "random": RandomSampler, "sobol": SobolSampler,
            "gp": GPSampler}
