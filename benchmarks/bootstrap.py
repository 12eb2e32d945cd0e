"""Paired bootstrap of a ROC AUC (and AP) difference: jaxdiag.diagnose.compare_models against a
loop over scikit-learn, in one run.

Two models' scores on n examples; B resamples of the examples, both models scored on each. The
peer resamples indices with NumPy and calls ``roc_auc_score`` twice per resample (the usual
loop); it is timed on --peer-resamples resamples and scaled to B. jaxdiag's time is one call:
the first (compile included) and the best warm one of --repeats. The interval ends of both are
printed: they agree to Monte-Carlo error.

    python benchmarks/bootstrap.py                  # n = 1e5, B = 1000
    python benchmarks/bootstrap.py --n 10000 --repeats 5
"""

import argparse
import time

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from jaxdiag.diagnose import compare_models

PEERS = {"roc_auc": roc_auc_score, "average_precision": average_precision_score}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--peer-resamples", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    y = (rng.random(args.n) < 0.3).astype(np.int32)
    a, b = y * 0.5 + rng.random(args.n), y * 0.55 + rng.random(args.n)
    print(f"n = {args.n:,}, {args.resamples:,} paired resamples")
    print(f"{'metric':<18}{'sklearn loop s':>15}{'jaxdiag 1st s':>15}{'jaxdiag warm s':>16}"
          f"{'ratio 1st':>11}{'ratio warm':>12}  interval jaxdiag / sklearn")
    for metric, score in PEERS.items():
        start = time.perf_counter()
        differences = []
        for _ in range(args.peer_resamples):
            i = rng.integers(0, args.n, args.n)
            differences.append(score(y[i], b[i]) - score(y[i], a[i]))
        peer = (time.perf_counter() - start) * args.resamples / args.peer_resamples
        times = []
        for seed in range(args.repeats + 1):
            start = time.perf_counter()
            result = compare_models(y, a, b, metric=metric, resamples=args.resamples, seed=seed)
            times.append(time.perf_counter() - start)
        first, warm = times[0], min(times[1:])
        low, high = np.quantile(differences, [0.025, 0.975])
        print(f"{metric:<18}{peer:>15.2f}{first:>15.2f}{warm:>16.2f}{peer / first:>10.1f}x"
              f"{peer / warm:>11.1f}x  [{result.interval[0]:.4f}, {result.interval[1]:.4f}] / "
              f"[{low:.4f}, {high:.4f}]")


if __name__ == "__main__":
    main()
