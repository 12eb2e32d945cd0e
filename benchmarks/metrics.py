"""Metric kernels against scikit-learn, torchmetrics (CPU), metrax and jiwer, in one run.

Prints one table: warm wall time per call (best of --repeats), the first call's compile time
for jaxdiag, the ratio peer / jaxdiag (above 1: jaxdiag is faster) and the largest difference
from scikit-learn's value. Peers that are not installed are left out. On an accelerator (or
with --bandwidth) a last column gives the input bytes jaxdiag reads per second and their
fraction of the bandwidth of a plain device copy (read + write of 1 GiB) measured in the run.

    python benchmarks/metrics.py                 # n = 1e5, 1e6, 1e7; population 256 x 1e5
    python benchmarks/metrics.py --quick         # n = 1e5 only, a small population
"""

import argparse
import time
from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

import jaxdiag.metrics as jm


def _optional(name: str):
    try:
        return __import__(name)
    except ImportError:
        return None


sklearn_metrics = _optional("sklearn.metrics") and __import__("sklearn.metrics").metrics
torch = _optional("torch")
torchmetrics = _optional("torchmetrics")
metrax = _optional("metrax")
jiwer = _optional("jiwer")


def timed(fn: Callable, repeats: int) -> tuple[float, float, object]:
    """(first call seconds, best warm seconds, value)."""
    start = time.perf_counter()
    value = jax.block_until_ready(fn())
    first = time.perf_counter() - start
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        value = jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - start)
    return first, best, value


def copy_bandwidth() -> float:
    """Bytes per second of an elementwise device pass that reads and writes 1 GiB."""
    x = jnp.ones(1 << 28, jnp.float32)
    _, warm, _ = timed(lambda: jax.jit(lambda a: a * 2)(x), 5)
    return 2 * x.nbytes / warm


def input_bytes(*arrays) -> int:
    return sum(np.asarray(a).nbytes for a in arrays)


class Table:
    def __init__(self, bandwidth: float | None = None):
        self.rows = []
        self.bandwidth = bandwidth

    def add(self, task: str, ours: tuple, peers: dict[str, tuple], reference=None,
            bytes_read: int | None = None):
        first, warm, value = ours
        row = [task, f"{warm:.4f}", f"{max(first - warm, 0):.2f}"]
        cells = []
        for name, (_, peer_warm, _) in peers.items():
            cells.append(f"{name} {peer_warm:.4f}s x{peer_warm / warm:.1f}")
        diff = ""
        if reference is not None:
            gap = np.asarray(value, np.float64) - np.asarray(reference, np.float64)
            diff = f"{np.max(np.abs(gap)):.1e}"
        rate = ""
        if self.bandwidth and bytes_read:
            rate = (f"{bytes_read / warm / 1e9:.1f} GB/s = "
                    f"{bytes_read / warm / self.bandwidth:.0%} of copy")
        self.rows.append([*row, "; ".join(cells), diff] + ([rate] if self.bandwidth else []))
        print(" | ".join(self.rows[-1]), flush=True)

    def header(self):
        columns = ["task", "jaxdiag warm s", "jaxdiag compile s",
                   "peers: warm s, x = peer / jaxdiag", "max |jaxdiag - sklearn|"]
        if self.bandwidth:
            print(f"device copy bandwidth: {self.bandwidth / 1e9:.1f} GB/s")
            columns.append("jaxdiag input bytes / s")
        print(" | ".join(columns))
        print(" | ".join("---" for _ in columns))


def exact_rows(table: Table, n: int, repeats: int, rng) -> None:
    y_true = (rng.random(n) < 0.3).astype(np.int32)
    y_score = rng.random(n).astype(np.float32)
    jt, js = jnp.asarray(y_true), jnp.asarray(y_score)
    for name, ours, sk_fn, tm_fn in (
        ("average_precision", jm.average_precision_score, "average_precision_score",
         "binary_average_precision"),
        ("roc_auc", jm.roc_auc_score, "roc_auc_score", "binary_auroc"),
    ):
        fast = jax.jit(ours)
        result = timed(lambda fast=fast: fast(jt, js), repeats)
        peers = {}
        reference = None
        if sklearn_metrics:
            peers["sklearn"] = timed(partial(getattr(sklearn_metrics, sk_fn), y_true, y_score),
                                     min(repeats, 2))
            reference = peers["sklearn"][2]
        if torchmetrics:
            import torchmetrics.functional.classification as tf
            peers["torchmetrics"] = timed(
                partial(getattr(tf, tm_fn), torch.from_numpy(y_score), torch.from_numpy(y_true),
                        validate_args=False), min(repeats, 2))
        table.add(f"exact {name} n={n:.0e}", result, peers, reference,
                  input_bytes(y_true, y_score))


def binned_rows(table: Table, n: int, repeats: int, rng, num_thresholds: int = 200) -> None:
    y_true = (rng.random(n) < 0.3).astype(np.int32)
    y_score = rng.random(n).astype(np.float32)
    jt, js = jnp.asarray(y_true), jnp.asarray(y_score)
    def bins() -> np.ndarray:
        index = np.minimum((y_score * (num_thresholds - 1)).astype(np.int64), num_thresholds - 1)
        return index + num_thresholds * y_true

    index = bins()
    bincount = timed(lambda: np.bincount(bins(), minlength=2 * num_thresholds), repeats)
    counts_only = timed(lambda: np.bincount(index, minlength=2 * num_thresholds), repeats)
    quantized = np.floor(y_score * (num_thresholds - 1)) / (num_thresholds - 1)
    for name, ours, sk_name, mx in (("average_precision", jm.average_precision_score,
                                     "average_precision_score", "AUCPR"),
                                    ("roc_auc", jm.roc_auc_score, "roc_auc_score", "AUCROC")):
        fast = jax.jit(lambda t, s, ours=ours: ours(t, s, num_thresholds=num_thresholds))
        result = timed(lambda fast=fast: fast(jt, js), repeats)
        peers = {"np.bincount pass": bincount, "np.bincount of precomputed bins": counts_only}
        if metrax and n <= 10**6:  # metrax compares every score with every threshold: n x T
            cls = getattr(metrax, mx)
            compute = jax.jit(lambda s, t, cls=cls: cls.from_model_output(
                s, t, num_thresholds=num_thresholds).compute())
            peers["metrax"] = timed(lambda compute=compute: compute(js, jt), repeats)
        reference = (getattr(sklearn_metrics, sk_name)(y_true, quantized)
                     if sklearn_metrics and n <= 10**6 else None)
        table.add(f"binned {name} T={num_thresholds} n={n:.0e}", result, peers, reference,
                  input_bytes(y_true, y_score))


def population_rows(table: Table, members: int, n: int, repeats: int, rng) -> None:
    y_true = (rng.random((members, n)) < 0.3).astype(np.int32)
    y_score = rng.random((members, n)).astype(np.float32)
    jt, js = jnp.asarray(y_true), jnp.asarray(y_score)
    for name, ours, sk_name in (("average_precision", jm.average_precision_score,
                                 "average_precision_score"),
                                ("roc_auc", jm.roc_auc_score, "roc_auc_score")):
        fast = jax.jit(jax.vmap(ours))
        result = timed(lambda fast=fast: fast(jt, js), repeats)
        peers, reference = {}, None
        if sklearn_metrics:
            f = getattr(sklearn_metrics, sk_name)
            peers["sklearn loop"] = timed(
                lambda f=f: np.array([f(y_true[k], y_score[k]) for k in range(members)]), 1)
            reference = peers["sklearn loop"][2]
        table.add(f"population {name} {members} x {n:.0e}", result, peers, reference,
                  input_bytes(y_true, y_score))


def wer_rows(table: Table, pairs: int, repeats: int, rng) -> None:
    vocabulary = [f"w{i}" for i in range(2000)]
    references, hypotheses = [], []
    for _ in range(pairs):
        words = list(rng.choice(vocabulary, rng.integers(5, 30)))
        references.append(" ".join(words))
        noisy = [w if rng.random() > 0.15 else rng.choice(vocabulary) for w in words
                 if rng.random() > 0.05]
        hypotheses.append(" ".join(noisy))
    result = timed(lambda: jm.word_error_rate(references, hypotheses), repeats)
    peers, reference = {}, None
    if jiwer:
        peers["jiwer"] = timed(lambda: jiwer.wer(references, hypotheses), repeats)
        reference = peers["jiwer"][2]
    if torchmetrics:
        from torchmetrics.functional.text import word_error_rate
        peers["torchmetrics"] = timed(lambda: word_error_rate(hypotheses, references), 1)
    table.add(f"word_error_rate {pairs} pairs", result, peers, reference)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 1e5 only, small population")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sections", nargs="+", default=["exact", "binned", "population", "wer"],
                        choices=["exact", "binned", "population", "wer"])
    parser.add_argument("--bandwidth", action="store_true",
                        help="add the bytes-per-second column on the CPU too")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, {jax.device_count()} device(s)")
    on_accelerator = jax.devices()[0].platform != "cpu"
    table = Table(copy_bandwidth() if on_accelerator or args.bandwidth else None)
    table.header()
    sizes = [10**5] if args.quick else [10**5, 10**6, 10**7]
    if "exact" in args.sections:
        for n in sizes:
            exact_rows(table, n, args.repeats, rng)
    if "binned" in args.sections:
        for n in sizes[-2:]:
            binned_rows(table, n, args.repeats, rng)
    if "population" in args.sections:
        population_rows(table, 16 if args.quick else 256, 10**5, args.repeats, rng)
    if "wer" in args.sections:
        wer_rows(table, 1000 if args.quick else 10_000, args.repeats, rng)


if __name__ == "__main__":
    main()
