"""Learning-rate pick: jaxdiag's range test (K rates x S seeds trained at once) against the
exponential-ramp finder of Lightning and fastai (one model, the rate growing each step), on the
digits MLP and CNN, in one run.

The ramp finder is implemented here as the reference, with Lightning's settings: the rate
grows exponentially from --low to --high over 100 steps, the loss is smoothed by an exponential
moving average (beta 0.98, debiased), the test stops once the smoothed loss passes 4x its best,
and the suggestion is the rate of the steepest descent of the smoothed loss against log(rate),
skipping the first 10 points and the last. jaxdiag's range test picks by dev loss (its
default) and, as the ramp does, by training loss. Each finder is timed as a user meets it: one
call, compile included (the second jaxdiag row reuses the first's compiled program). The
configured rate of the default config (3e-4) is the row without a finder. Each pick then
trains the model for --train-steps steps with --seeds seeds (one population per pick), and the
table gives the dev error (the shifted target domain of the default config) as mean ± sd over
the seeds.

    python benchmarks/learning_rate_range.py                   # MLP and CNN, 5 seeds
    python benchmarks/learning_rate_range.py --models mlp --train-steps 1000
"""

import argparse
import functools
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdiag.data import fit_normalizer, normalize
from jaxdiag.diagnose import learning_rate_range
from jaxdiag.experiment import DataConfig, ModelConfig, RunConfig, load_splits
from jaxdiag.jobs.run import population_task
from jaxdiag.search import Data, train_population
from jaxdiag.search.task import MEMBER_HPARAMS


def ramp_finder(task, data: Data, *, low: float, high: float, steps: int = 100,
                batch_size: int = 64, beta: float = 0.98, stop: float = 4.0,
                seed: int = 0) -> float:
    """Lightning's ``lr_find`` (exponential mode) with its ``suggestion()``: the pick."""
    rates = low * (high / low) ** (np.arange(steps) / (steps - 1))
    hp = {k: jnp.asarray(v, jnp.float32) for k, v in {**MEMBER_HPARAMS,
                                                      "learning_rate": 1.0}.items()}
    key = jax.random.key(seed)
    params, state = task.init(key, hp)
    tx = task.tx(hp)  # at rate 1: each step's updates are scaled by the ramp's rate
    indices = np.random.default_rng(seed).integers(0, len(data.y_train), (steps, batch_size))
    x_train, y_train = jnp.asarray(data.x_train), jnp.asarray(data.y_train)

    @jax.jit
    def run(params, state):
        def step(carry, inputs):
            params, state, opt_state = carry
            rate, batch, k = inputs
            (loss, state), grads = jax.value_and_grad(task.loss, has_aux=True)(
                params, state, x_train[batch], y_train[batch], k, hp)
            updates, opt_state = tx.update(grads, opt_state, params)
            updates = jax.tree.map(lambda u: rate * u, updates)
            return (optax.apply_updates(params, updates), state, opt_state), loss

        keys = jax.random.split(jax.random.fold_in(key, 1), steps)
        return jax.lax.scan(step, (params, state, tx.init(params)),
                            (jnp.asarray(rates, jnp.float32), jnp.asarray(indices), keys))[1]

    losses = np.asarray(run(params, state), np.float64)
    smoothed, average, best = [], 0.0, np.inf
    for i, loss in enumerate(losses):
        average = beta * average + (1 - beta) * loss
        value = average / (1 - beta ** (i + 1))
        if not np.isfinite(value) or (i > 0 and value > stop * best):
            break
        smoothed.append(value)
        best = min(best, value)
    smoothed = np.array(smoothed)
    gradient = np.gradient(smoothed[10:-1]) if len(smoothed) > 12 else np.array([])
    return float(rates[10 + int(np.argmin(gradient))]) if len(gradient) else float("nan")


def dev_errors(task, data: Data, rate: float, seeds: int, steps: int, batch_size: int):
    result = train_population(task, {"learning_rate": np.full(seeds, rate)},
                              np.arange(seeds) + 10_000, data, steps=steps, batch_size=batch_size)
    return result.dev_error


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["mlp", "cnn"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--train-steps", type=int, default=3000)
    parser.add_argument("--low", type=float, default=1e-5)
    parser.add_argument("--high", type=float, default=1.0)
    args = parser.parse_args()
    splits = load_splits(DataConfig())
    train = splits["train"].data
    normalizer = fit_normalizer(train.x)
    data = Data(normalize(train.x, normalizer), train.y,
                normalize(splits["dev"].data.x, normalizer), splits["dev"].data.y)
    print(f"digits, default split (dev: shifted target, {len(data.y_dev)} examples); rates in "
          f"[{args.low:g}, {args.high:g}]; each pick trained {args.train_steps} steps x "
          f"{args.seeds} seeds (Adam)")
    print(f"{'model':<6}{'finder':<30}{'wall s':>8}{'pick':>11}{'dev error (mean ± sd)':>26}")
    for name in args.models:
        task = population_task(RunConfig(model=ModelConfig(name=name)), None, train)
        finders = {
            "configured (no finder)": lambda: RunConfig().optimizer.learning_rate,
            "ramp (Lightning, 100 steps)": functools.partial(
                ramp_finder, task, data, low=args.low, high=args.high),
            "jaxdiag 12x3x300, dev loss": lambda task=task: learning_rate_range(
                task, data, low=args.low, high=args.high).pick,
            "jaxdiag 12x3x300, train loss": lambda task=task: learning_rate_range(
                task, data, low=args.low, high=args.high, criterion="train_loss").pick,
        }
        for label, finder in finders.items():
            start = time.perf_counter()
            pick = finder()
            wall = time.perf_counter() - start
            errors = dev_errors(task, data, pick, args.seeds, args.train_steps, 64)
            print(f"{name:<6}{label:<30}{wall:>8.1f}{pick:>11.2e}"
                  f"{f'{100 * errors.mean():.2f}% ± {100 * errors.std(ddof=1):.2f}':>26}")


if __name__ == "__main__":
    main()
