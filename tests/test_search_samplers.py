import numpy as np
import pytest

from jaxdiag.search import GPSampler, GridSampler, RandomSampler, SobolSampler, Space, Uniform

SPACE = Space({"x1": Uniform(-5.0, 10.0), "x2": Uniform(0.0, 15.0)})
BRANIN_MIN = 0.397887


def branin(p: dict) -> float:
    x1, x2 = p["x1"], p["x2"]
    b, c, t = 5.1 / (4 * np.pi ** 2), 5 / np.pi, 1 / (8 * np.pi)
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * np.cos(x1) + 10


def search(sampler, batches: int, k: int = 4) -> list:
    observed = []
    for _ in range(batches):
        points = sampler.ask(SPACE, k, len(observed), observed)
        observed += [(p, branin(p)) for p in points]
    return observed


@pytest.mark.parametrize("sampler", [RandomSampler(3), SobolSampler(3), GPSampler(3, initial=4)])
def test_the_same_seed_and_history_give_the_same_points(sampler):
    first = search(sampler, 2)
    assert search(sampler, 2) == first
    assert all(-5 <= p["x1"] <= 10 and 0 <= p["x2"] <= 15 for p, _ in first)


def test_grid_hands_out_its_points_once_then_stops():
    sampler = GridSampler(3)
    points = [p for i in range(0, 9, 4) for p in sampler.ask(SPACE, 4, i, [])]
    assert len(points) == 9 and len({tuple(p.values()) for p in points}) == 9
    assert sampler.ask(SPACE, 4, 9, []) == []


@pytest.mark.slow  # 17-41 s: the GP's sample efficiency, a benchmark-like property
def test_gp_finds_the_branin_minimum_in_fewer_evaluations_than_random_search():
    """8 batches of 4 evaluations, 5 seeds: the GP's regret is far below random search's."""
    def regret(sampler, evaluations):
        return min(v for _, v in search(sampler, 8)[:evaluations]) - BRANIN_MIN

    gp = [regret(GPSampler(seed, initial=8), 32) for seed in range(5)]
    random = [regret(RandomSampler(seed), 32) for seed in range(5)]
    random_more = [min(v for _, v in search(RandomSampler(seed), 32)) - BRANIN_MIN
                   for seed in range(5)]  # 128 random evaluations
    assert np.mean(gp) < 0.1 < np.mean(random)
    assert np.mean(gp) < np.mean(random_more)  # 32 GP evaluations beat 128 random ones


def test_gp_tolerates_failed_trials():
    failed = [(p, float("nan") if i % 3 == 0 else v) for i, (p, v) in enumerate(search(
        SobolSampler(0), 3))]
    assert len(GPSampler(0, initial=4).ask(SPACE, 4, 12, failed)) == 4  # NaN results tolerated
