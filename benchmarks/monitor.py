"""Cost of full monitor statistics: the monitored train step against the plain one.

    python benchmarks/monitor.py            # MLP and CNN on digits, batch 128, 300 steps each
    python benchmarks/monitor.py --steps 50

The monitored step computes, for every layer, mean, std, min, max, zero / dead / saturated
fractions and a 30-bin histogram, and for every parameter leaf the gradient norm, max, zero
fraction and update-to-parameter ratio. Two ways of timing, same batch, median over many
calls, plain and monitored interleaved against drift:

- "in a scan": the way jaxdiag trains, ``--chunk`` steps per compiled ``lax.scan``, every step
  monitored and its statistics returned (stacked), so none is optimized away; the table gives
  the median time per step. This is the cost of computing the statistics (target: 1.15x).
  On the CPU, XLA runs convolutions several times slower inside a loop body (jax-ml/jax
  #12868), which makes the CNN's steps in a scan slower than one per call; ``--unroll`` equal
  to ``--chunk`` removes the loop.
- "per call": one jitted step per Python call with donated state. The monitored step returns
  50-70 small arrays against about 20, and on a step of a few hundred microseconds their
  dispatch shows; jaxdiag's loop pays it once per ``log_every`` steps, not every step.
"""

import argparse
import statistics
import time
from functools import partial

import jax
import optax

from jaxdiag.data import fit_normalizer, load_digits, normalize
from jaxdiag.experiment import (
    cross_entropy_loss,
    init_train_state,
    make_monitored_train_step,
    make_train_step,
)
from jaxdiag.models import as_model, build_model
from jaxdiag.monitor import activation_kinds


def median_step_ms(step, state, x, y, steps: int) -> float:
    state = step(state, x, y)[0]  # compile
    jax.block_until_ready(state)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        state = step(state, x, y)[0]
        jax.block_until_ready(state)
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def median_scan_step_ms(step, state, x, y, chunks: int, chunk: int, unroll: int) -> float:
    """Median time per step of ``chunk`` steps in one compiled scan, every output kept."""

    @partial(jax.jit, donate_argnums=0)
    def run(state):
        def body(state, _):
            state, *outputs = step(state, x, y)
            return state, outputs

        return jax.lax.scan(body, state, length=chunk, unroll=unroll)

    state = jax.block_until_ready(run(state))[0]  # compile
    times = []
    for _ in range(chunks):
        start = time.perf_counter()
        state = jax.block_until_ready(run(state))[0]
        times.append((time.perf_counter() - start) / chunk)
    return 1e3 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--chunk", type=int, default=20, help="steps per scan")
    parser.add_argument("--unroll", type=int, default=1,
                        help="lax.scan unroll (jaxdiag's loop: 1; = --chunk: no loop left)")
    args = parser.parse_args()
    digits = load_digits()
    x = normalize(digits.x[:args.batch], fit_normalizer(digits.x))
    y = digits.y[:args.batch]
    print(f"jax {jax.__version__} on {jax.default_backend()}, batch {args.batch}, "
          f"median of {args.steps} steps")
    print("model | parameters | timing | plain step ms | monitored step ms | monitored / plain")
    print("--- | --- | --- | --- | --- | ---")
    for name, hidden in (("mlp", (256, 256)), ("cnn", ())):
        model = as_model(build_model(name, (8, 8, 1), 10, hidden=hidden or (128,)))
        params = model.params
        kinds = activation_kinds(model, x)
        tx = optax.adam(1e-3)
        key = jax.random.key(0)
        plain = make_train_step(cross_entropy_loss(model), tx, key)
        monitored = make_monitored_train_step(model, kinds, tx, key)
        count = sum(p.size for p in jax.tree_util.tree_leaves(params))
        timings = {
            "in a scan": partial(median_scan_step_ms, chunks=max(args.steps // args.chunk, 5),
                                 chunk=args.chunk, unroll=args.unroll),
            "per call": lambda step, *a: median_step_ms(jax.jit(step, donate_argnums=0), *a,
                                                        args.steps),
        }
        for timing, measure in timings.items():
            results = []
            for step in (plain, monitored, plain, monitored):  # interleaved against drift
                state = init_train_state(jax.tree_util.tree_map(lambda p: p.copy(), params), tx)
                results.append(measure(step, state, x, y))
            plain_ms, monitored_ms = min(results[0::2]), min(results[1::2])
            print(f"{name} {hidden or ''} | {count} | {timing} | {plain_ms:.3f} | "
                  f"{monitored_ms:.3f} | {monitored_ms / plain_ms:.2f}x", flush=True)


if __name__ == "__main__":
    main()
