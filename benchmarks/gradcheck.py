"""Gradient checks: jaxdiag.gradcheck against jax.test_util.check_grads and torch gradcheck.

    python benchmarks/gradcheck.py            # MLPs of ~10k and ~100k parameters
    python benchmarks/gradcheck.py --quick    # the ~10k MLP only
    python benchmarks/gradcheck.py --one-shot # first calls only, each in a fresh process

A first call compiles: the one-shot table runs each tool's first call in a fresh process with
no compilation cache, 3 times, as a run's single check pays it.

All checks run in float64 on the same MLP (64 inputs, ReLU, 10 classes, a batch of 64 digits)
at an equal number of checked directions D: jaxdiag checks D / 6 random directions in each of
the 6 leaves in one compiled call; check_grads (order 1, modes fwd + rev, eps 1e-6 like
jaxdiag) checks one direction per mode per call and is called D / 2 times on a jitted loss;
torch.autograd.gradcheck checks one random projection in fast mode and every coordinate in
slow mode (its own count, printed).
Then a wrong gradient is planted in the second layer's kernel (half its true value) and each
tool's answer is printed: jaxdiag names the leaf, the peers raise.
"""

import argparse
import itertools
import os
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.test_util import check_grads

from jaxdiag.data import load_digits
from jaxdiag.gradcheck import gradcheck

try:
    import torch
except ImportError:  # the torch rows are left out
    torch = None

SIZES = {"~10k": (96, 32), "~100k": (512, 128)}


def _init(hidden: tuple[int, ...], seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    widths = [64, *hidden, 10]
    return {f"dense_{i}": {"kernel": rng.normal(0, np.sqrt(2 / a), (a, b)),
                           "bias": rng.normal(0, 0.1, b)}
            for i, (a, b) in enumerate(itertools.pairwise(widths))}


@jax.custom_vjp
def _half_gradient(w):
    return w


_half_gradient.defvjp(lambda w: (w, None), lambda _, g: (0.5 * g,))


def _jax_loss(bug: bool):
    def loss(params, x, y):
        h = x
        for i in range(len(params)):
            kernel = params[f"dense_{i}"]["kernel"]
            if bug and i == 1:
                kernel = _half_gradient(kernel)
            h = h @ kernel + params[f"dense_{i}"]["bias"]
            if i < len(params) - 1:
                h = jax.nn.relu(h)
        return optax.softmax_cross_entropy_with_integer_labels(h, y).mean()
    return loss


def _torch_loss(bug: bool, x, y):
    class HalfGradient(torch.autograd.Function):
        @staticmethod
        def forward(ctx, w):
            return w.view_as(w)

        @staticmethod
        def backward(ctx, g):
            return 0.5 * g

    def loss(*leaves):  # kernel_0, bias_0, kernel_1, ...
        h = x
        layers = len(leaves) // 2
        for i in range(layers):
            kernel = HalfGradient.apply(leaves[2 * i]) if bug and i == 1 else leaves[2 * i]
            h = h @ kernel + leaves[2 * i + 1]
            if i < layers - 1:
                h = torch.relu(h)
        return torch.nn.functional.cross_entropy(h, y)
    return loss


def timed(fn, repeats: int = 3) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        try:
            out = fn()
        except Exception as error:  # a failed check is a result here
            out = error
        best = min(best, time.perf_counter() - start)
    return best, out


def _first_line(out) -> str:
    if isinstance(out, Exception):
        return f"raises {type(out).__name__}: {str(out).strip().splitlines()[0][:90]}"
    return "passes" if out is None or out is True else str(out)


def rows(name: str, hidden: tuple[int, ...], directions: int, data) -> None:
    x, y = data
    params = _init(hidden)
    count = sum(p.size for layer in params.values() for p in layer.values())
    per_leaf = directions // (2 * len(params))
    total = per_leaf * 2 * len(params)
    print(f"\n## MLP {name}: {count} parameters, {total} directions, float64")
    print("tool | first call s (compile) | warm s | x = tool / jaxdiag warm | correct model")
    print("--- | --- | --- | --- | ---")
    with jax.enable_x64(True):
        jparams = jax.tree_util.tree_map(jnp.asarray, params)
        jx, jy = jnp.asarray(x, jnp.float64), jnp.asarray(y)
        loss = _jax_loss(False)

        def ours():
            return gradcheck(loss, jparams, jx, jy, num_directions=per_leaf, num_coordinates=0,
                             exhaustive_size=0)

        first, _ = timed(ours, 1)
        warm, report = timed(ours)
        print(f"jaxdiag.gradcheck | {first:.2f} | {warm:.3f} | 1.0 | "
              f"{'passes' if report.ok else 'FAILS'}")
        jitted = jax.jit(lambda p: loss(p, jx, jy))

        def peer():
            for _ in range(total // 2):
                check_grads(jitted, (jparams,), order=1, modes=("fwd", "rev"), eps=1e-6)

        first, _ = timed(peer, 1)
        peer_warm, out = timed(peer)
        print(f"check_grads x {total // 2} | {first:.2f} | {peer_warm:.3f} | "
              f"{peer_warm / warm:.1f} | {_first_line(out)}")
    if torch is not None:
        tx = torch.tensor(x, dtype=torch.float64)
        ty = torch.tensor(y, dtype=torch.long)
        leaves = [torch.tensor(params[k][p], dtype=torch.float64, requires_grad=True)
                  for k in params for p in ("kernel", "bias")]
        tloss = _torch_loss(False, tx, ty)
        for fast in (True, False):
            seconds, out = timed(lambda fast=fast: torch.autograd.gradcheck(
                tloss, leaves, fast_mode=fast), 3 if fast else 1)
            label = "fast_mode" if fast else f"slow mode ({count} coordinates)"
            print(f"torch gradcheck {label} | - | {seconds:.3f} | {seconds / warm:.1f} | "
                  f"{_first_line(out)}")
    print(f"\nPlanted bug (dense_1/kernel gradient halved), MLP {name}:")
    with jax.enable_x64(True):
        bad = _jax_loss(True)
        report = gradcheck(bad, jparams, jx, jy, num_directions=per_leaf, num_coordinates=0,
                           exhaustive_size=0)
        print(f"  jaxdiag.gradcheck: wrong leaves {report.failed} "
              f"(relative error {report.worst_relative_error:.2f})")
        _, out = timed(lambda: check_grads(jax.jit(lambda p: bad(p, jx, jy)), (jparams,),
                                           order=1, modes=("rev",), eps=1e-6), 1)
        print(f"  check_grads (rev; fwd mode cannot differentiate a custom_vjp): "
              f"{_first_line(out)}")
    if torch is not None:
        _, out = timed(lambda: torch.autograd.gradcheck(_torch_loss(True, tx, ty), leaves,
                                                        fast_mode=True), 1)
        print(f"  torch gradcheck: {_first_line(out)}")


def first_call(tool: str, hidden: tuple[int, ...], directions: int, data) -> float:
    """Seconds of ``tool``'s first check in this process (compile included)."""
    x, y = data
    params = _init(hidden)
    per_leaf = directions // (2 * len(params))
    with jax.enable_x64(True):
        jparams = jax.tree_util.tree_map(jnp.asarray, params)
        jx, jy = jnp.asarray(x, jnp.float64), jnp.asarray(y)
        loss = _jax_loss(False)
        start = time.perf_counter()
        if tool == "jaxdiag":
            assert gradcheck(loss, jparams, jx, jy, num_directions=per_leaf, num_coordinates=0,
                             exhaustive_size=0).ok
        else:
            jitted = jax.jit(lambda p: loss(p, jx, jy))
            for _ in range(per_leaf * len(params)):
                check_grads(jitted, (jparams,), order=1, modes=("fwd", "rev"), eps=1e-6)
        return time.perf_counter() - start


def one_shot_rows(directions: int, repeats: int = 3) -> None:
    print(f"\n## One-shot: the first call in a fresh process, no compilation cache, "
          f"{directions} directions, float64, {repeats} processes each")
    print("MLP | jaxdiag.gradcheck s | check_grads s | x = check_grads / jaxdiag (range)")
    print("--- | --- | --- | ---")
    env = {**os.environ, "JAXDIAG_COMPILATION_CACHE": "off"}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    for name in SIZES:
        seconds = {tool: [float(subprocess.run(
            [sys.executable, __file__, "--first-call", tool, name, "--directions",
             str(directions)], env=env, capture_output=True, text=True, check=True).stdout)
            for _ in range(repeats)] for tool in ("jaxdiag", "check_grads")}
        ours, peer = np.array(seconds["jaxdiag"]), np.array(seconds["check_grads"])
        print(f"{name} | {ours.min():.2f}-{ours.max():.2f} | {peer.min():.2f}-{peer.max():.2f} | "
              f"{np.median(peer) / np.median(ours):.1f} ({peer.min() / ours.max():.1f}-"
              f"{peer.max() / ours.min():.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the ~10k MLP only")
    parser.add_argument("--directions", type=int, default=96, help="directions D per check")
    parser.add_argument("--one-shot", action="store_true", help="the one-shot table only")
    parser.add_argument("--first-call", nargs=2, metavar=("TOOL", "MLP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    digits = load_digits()
    flat = digits.x.reshape(len(digits.x), -1)
    x = (flat[:64] - flat.mean(0)) / (flat.std(0) + 1)
    if args.first_call:  # one measurement, in the fresh process one_shot_rows started
        tool, name = args.first_call
        print(first_call(tool, SIZES[name], args.directions, (x, digits.y[:64])))
        return
    if args.one_shot:
        one_shot_rows(args.directions)
        return
    print(f"jax {jax.__version__} on {jax.default_backend()}"
          + (f", torch {torch.__version__}" if torch is not None else ", torch not installed"))
    for name, hidden in SIZES.items():
        if args.quick and name != "~10k":
            continue
        rows(name, hidden, args.directions, (x, digits.y[:64]))
    one_shot_rows(args.directions)


if __name__ == "__main__":
    main()
