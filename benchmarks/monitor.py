"""Cost of full monitor statistics: the monitored train step against the plain one.

    python benchmarks/monitor.py            # MLP and CNN on digits, batch 128, 300 steps each
    python benchmarks/monitor.py --steps 50

Both steps are jitted with donated state and timed one call at a time on the same batch; the
table gives the median and the ratio monitored / plain (the target is at most 1.15x). The
monitored step computes, for every layer, mean, std, min, max, zero / dead / saturated
fractions and a 30-bin histogram, and for every parameter leaf the gradient norm, max, zero
fraction and update-to-parameter ratio.
"""

import argparse
import statistics
import time

import jax
import optax

from jaxdiag.data import fit_normalizer, load_digits, normalize
from jaxdiag.experiment import (
    cross_entropy_loss,
    init_train_state,
    make_monitored_train_step,
    make_train_step,
)
from jaxdiag.models import build_model, functional
from jaxdiag.monitor import activation_kinds, nnx_capture


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    digits = load_digits()
    x = normalize(digits.x[:args.batch], fit_normalizer(digits.x))
    y = digits.y[:args.batch]
    print(f"jax {jax.__version__} on {jax.default_backend()}, batch {args.batch}, "
          f"median of {args.steps} steps")
    print("model | parameters | plain step ms | monitored step ms | monitored / plain")
    print("--- | --- | --- | --- | ---")
    for name, hidden in (("mlp", (256, 256)), ("cnn", ())):
        model = build_model(name, (8, 8, 1), 10, hidden=hidden or (128,))
        apply_fn, params = functional(model)
        capture, _ = nnx_capture(model)
        kinds = activation_kinds(capture, params, x)
        tx = optax.adam(1e-3)
        plain = jax.jit(make_train_step(cross_entropy_loss(apply_fn), tx), donate_argnums=0)
        monitored = jax.jit(make_monitored_train_step(capture, kinds, tx), donate_argnums=0)
        count = sum(p.size for p in jax.tree_util.tree_leaves(params))
        results = []
        for step in (plain, monitored, plain, monitored):  # interleaved against drift
            state = init_train_state(jax.tree_util.tree_map(lambda p: p.copy(), params), tx)
            results.append(median_step_ms(step, state, x, y, args.steps))
        plain_ms, monitored_ms = min(results[0::2]), min(results[1::2])
        print(f"{name} {hidden or ''} | {count} | {plain_ms:.3f} | {monitored_ms:.3f} | "
              f"{monitored_ms / plain_ms:.2f}x")


if __name__ == "__main__":
    main()
