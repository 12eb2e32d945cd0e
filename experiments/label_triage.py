"""How far the label-error triage can be trusted, on data whose label errors are known.

    python experiments/label_triage.py              # about 3 min on 2 cores
    python experiments/label_triage.py --seeds 1    # one seed per case

Each case flips a known share of the labels (the "real" errors, uniform to another class),
runs confident learning on 5 cross-validated folds of the default MLP (one population, 1,000
steps), then the triage of ``jaxdiag.diagnose.triage_label_errors``: the same folds on a copy
with 5% more labels flipped on purpose. Columns: the flags' true precision, the triage's upper
bound on it (no knowledge of the rate), its estimate when told the true rate, the real flips'
recall against the planted ones', and the recommended review (the top N flags) with the share
of the real flags it holds and its true precision. Cases: the digits (1,797 x 64, 10 classes)
and scikit-learn's ``make_classification`` (20,000 x 50, 5 classes; class_sep 2 gives about 7%
model error, 1 about 23%), with 0, 2 or 5% real errors.
"""

import argparse

import numpy as np
from sklearn.datasets import make_classification

from jaxdiag.data import fit_normalizer, load_digits, normalize
from jaxdiag.diagnose import (
    cross_validated_probabilities,
    find_label_errors,
    plant_label_flips,
    triage_label_errors,
)


def _data(name: str) -> tuple[np.ndarray, np.ndarray, int]:
    if name == "digits":
        digits = load_digits()
        x, y, classes = digits.x, digits.y, 10
    else:
        x, y = make_classification(20_000, 50, n_informative=10, n_classes=5,
                                   n_clusters_per_class=2, class_sep=float(name.split("=")[1]),
                                   random_state=0)
        classes = 5
    x = np.asarray(x, np.float32)
    return normalize(x, fit_normalizer(x)), np.asarray(y, np.int32), classes


def _case(x: np.ndarray, y: np.ndarray, classes: int, rate: float, seed: int) -> dict:
    n = len(y)
    real = np.zeros(0, int)
    if rate:
        y, real = plant_label_flips(y, classes, round(rate * n), seed=seed)
    suspects = find_label_errors(y, cross_validated_probabilities(x, y, classes, seed=seed))
    copy, planted = plant_label_flips(y, classes, round(0.05 * n), seed=seed + 1000)
    copy_suspects = find_label_errors(copy, cross_validated_probabilities(x, copy, classes,
                                                                          seed=seed))
    known = triage_label_errors(suspects, copy_suspects, planted, n, error_rate=rate or None)
    hits = np.isin(suspects.indices, real)
    top = hits[:known.review_top]
    return {"flags": known.flags, "precision": hits.mean() if len(hits) else np.nan,
            "bound": known.precision_at_most,
            "estimate": np.nan if known.precision is None else known.precision,
            "real recall": hits.sum() / len(real) if rate else np.nan,
            "planted recall": known.recall, "review": known.review_top,
            "review holds": top.sum() / hits.sum() if hits.sum() else np.nan,
            "review precision": top.mean() if len(top) else np.nan}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    cases = [("digits", 0.0), ("digits", 0.05), ("tabular sep=2", 0.0), ("tabular sep=2", 0.02),
             ("tabular sep=1", 0.02)]
    columns = ["flags", "precision", "bound", "estimate", "real recall", "planted recall",
               "review", "review holds", "review precision"]
    print("| data | real errors | " + " | ".join(columns) + " |")
    print("|" + " --- |" * (len(columns) + 2))
    for name, rate in cases:
        x, y, classes = _data(name.removeprefix("tabular "))
        rows = [_case(x, y, classes, rate, seed) for seed in range(args.seeds)]
        cells = []
        for column in columns:
            values = np.array([r[column] for r in rows], float)
            if np.all(np.isnan(values)):
                cells.append("—")
            elif column in ("flags", "review"):
                cells.append(f"{values.min():.0f}-{values.max():.0f}")
            else:
                cells.append(f"{np.nanmin(values):.2f}-{np.nanmax(values):.2f}")
        print(f"| {name} | {rate:.0%} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
