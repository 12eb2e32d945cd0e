"""Bergstra and Bengio (2012): with the same budget, random search beats grid search when
only a few hyperparameters matter.

    python experiments/random_vs_grid.py             # both tables, about 2 minutes on 2 cores
    python experiments/random_vs_grid.py --repeats 3

Table 1 (synthetic, exact): minimize f(u) over the unit cube [0, 1]^4, where only the first
coordinate matters: f = (u0 - 0.37)^2 + 0.001 * sum(u1..u3). A 2 x 2 x 2 x 2 grid spends its
16 points on 2 values of u0; 16 random or Sobol points try 16. Mean (std) best f over 200
repeats (the grid's position is shifted randomly each repeat, as a fair grid would be).

Table 2 (real training): the digits MLP (2 x 64 ReLU, SGD, 300 steps, batch 64), trained as one
vmap population per search, dev error of the best of 16 trials. Hyperparameters: learning
rate (log-uniform 1e-3..1: matters), momentum (0..0.9: matters some), weight decay
(log-uniform 1e-7..1e-5: negligible) and initialization scale (0.8..1.2: negligible).
The grid has 2 values per axis (16 points): the ends of each range (``Space.grid``, like
sklearn's ParameterGrid over np.geomspace) or, fairer to it, the centres of each half of the
range; the mean (std) over --repeats seeds (training seeds, random and Sobol seeds) is printed.
"""

import argparse

import numpy as np

from jaxdiag.experiment import DataConfig
from jaxdiag.search import (
    GridSampler,
    LogUniform,
    RandomSampler,
    SobolSampler,
    Space,
    Uniform,
    load_sweep_data,
    mlp_task,
    sobol,
    train_population,
)

BUDGET = 16


def synthetic(repeats: int) -> dict[str, list[float]]:
    def f(u: np.ndarray) -> np.ndarray:
        return (u[:, 0] - 0.37) ** 2 + 0.001 * u[:, 1:].sum(1)

    axis = np.array([0.25, 0.75])  # 2 values per axis: the centers of two halves
    grid = np.stack(np.meshgrid(*[axis] * 4, indexing="ij"), -1).reshape(-1, 4)
    best: dict[str, list[float]] = {"grid": [], "random": [], "sobol": []}
    for r in range(repeats):
        rng = np.random.default_rng(r)
        shifted = (grid + rng.uniform(-0.25, 0.25, 4)) % 1.0
        best["grid"].append(f(shifted).min())
        best["random"].append(f(rng.random((BUDGET, 4))).min())
        best["sobol"].append(f(sobol(BUDGET, 4, seed=r)).min())
    return best


def training(repeats: int) -> dict[str, list[float]]:
    space = Space({"learning_rate": LogUniform(1e-3, 1.0), "momentum": Uniform(0.0, 0.9),
                   "weight_decay": LogUniform(1e-7, 1e-5), "init_scale": Uniform(0.8, 1.2)})
    data = load_sweep_data(DataConfig())
    task = mlp_task((data.x_train.shape[1],), 10, hidden=(64, 64))
    centred = np.stack(np.meshgrid(*[[0.25, 0.75]] * 4, indexing="ij"), -1).reshape(-1, 4)
    best: dict[str, list[float]] = {"grid": [], "grid (centred)": [], "random": [],
                                    "sobol": []}
    for r in range(repeats):
        samplers = {"grid": GridSampler(2), "grid (centred)": None, "random": RandomSampler(r),
                    "sobol": SobolSampler(r)}
        for name, sampler in samplers.items():
            points = (space.decode(centred) if sampler is None
                      else sampler.ask(space, BUDGET, 0, []))
            hparams = {k: np.array([p[k] for p in points]) for k in space.names}
            result = train_population(task, hparams, np.arange(BUDGET) + 100 * r, data,
                                      steps=300, batch_size=64)
            best[name].append(float(np.nanmin(result.dev_error)))
            if r == 0:
                distinct = len({round(p["learning_rate"], 12) for p in points})
                print(f"  {name}: {distinct} distinct learning rates in {BUDGET} trials")
    return best


def table(title: str, best: dict[str, list[float]], unit: str) -> None:
    print(f"\n{title}\n\nsearch | best of {BUDGET} trials, mean (std) | vs grid")
    print("--- | --- | ---")
    grid = np.mean(best["grid"])
    for name, values in best.items():
        mean, std = np.mean(values), np.std(values)
        print(f"{name} | {mean:{unit}} ({std:{unit}}) | {mean / grid:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="seeds of the training table")
    args = parser.parse_args()
    table("Table 1: synthetic, only u0 matters (200 repeats); best f", synthetic(200), ".5f")
    table(f"Table 2: digits MLP, dev error ({args.repeats} seeds)", training(args.repeats), ".2%")


if __name__ == "__main__":
    main()
