"""Training-loop overhead: jaxdiag's scanned chunks against a Python loop over a jitted step.

Same MLP, data, optimizer and batches (the digits baseline); prints a table of warm wall
time per 1,000 steps, compile time separately, and the ratio to the per-step loop.

Run: python benchmarks/train_loop.py [--steps 3000] [--repeats 3]
"""

import argparse
import time

import jax

from jaxdiag.data import DomainShift, fit_normalizer, load_digits, make_splits, normalize
from jaxdiag.experiment import (
    OptimizerConfig,
    cross_entropy_loss,
    init_train_state,
    make_optimizer,
    make_train_step,
    make_train_steps,
)
from jaxdiag.models import as_model, build_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    train = make_splits(load_digits(), DomainShift(), seed=0)["train"].data
    x = jax.device_put(normalize(train.x, fit_normalizer(train.x)))
    y = jax.device_put(train.y)
    model = as_model(build_model("mlp", (8, 8, 1), 10, seed=0))
    params = model.params
    tx = make_optimizer(OptimizerConfig())
    train_steps = make_train_steps(make_train_step(cross_entropy_loss(model), tx,
                                                   jax.random.key(1)), 64, jax.random.key(0))

    def run(steps_per_call):
        """args.steps steps in calls of steps_per_call; 1 is the plain per-step Python loop."""
        state = init_train_state(params, tx)
        for _ in range(args.steps // steps_per_call):
            state, _ = train_steps(state, x, y, num_steps=steps_per_call)
        return jax.block_until_ready(state)

    rows = [("python loop, 1 step per call", lambda: run(1))]
    rows += [(f"jaxdiag scan, {c} steps per call", lambda c=c: run(c)) for c in (50, 500)]
    results = []
    for name, fn in rows:
        start = time.perf_counter()
        fn()
        first = time.perf_counter() - start
        warm = min(_timed(fn) for _ in range(args.repeats))
        results.append((name, first - warm, warm))
    base = results[0][2]
    print(f"digits MLP (128, 128), batch 64, {args.steps} steps, {jax.devices()[0].platform}")
    print(f"{'loop':<34}{'compile s':>10}{'warm s':>9}{'ms/1k steps':>13}{'speed-up':>10}")
    for name, compile_s, warm in results:
        print(f"{name:<34}{compile_s:>10.2f}{warm:>9.3f}{1e6 * warm / args.steps:>13.1f}"
              f"{base / warm:>9.1f}x")


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
