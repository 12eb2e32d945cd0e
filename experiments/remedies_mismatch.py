"""Remedies for a data mismatch on the built-in shift: synthesis, CORAL, domain confusion.

    python experiments/remedies_mismatch.py               # about 3 min on 2 cores
    python experiments/remedies_mismatch.py --seeds 2 --steps 500   # a quick look

The digits with the main job's synthetic target domain (blur 0.7, contrast 0.7, noise 0.2): train
and train-dev from the source, dev and test shifted, and a disjoint quarter of the source
examples left after dev and test shifted with noise of its own as the target's *unlabelled*
training inputs (``make_splits(..., unlabelled_target_fraction=0.25)``). The main job's MLP
(128 x 128 ReLU, Adam 3e-4, batches of 64) trains ``--steps`` steps per member. Each remedy is
one population (``jaxdiag.search.RemedyTask``): its weights x the seeds, in one compiled
program; the weight is picked by the mean dev error over the seeds (the target's labelled dev
set, as a user would tune it) and reported on test. Arms:

- source only: the model as it is;
- synthesis: that share of each batch seen through a random camera around the shift
  (``jaxdiag.data.synthesis.random_shift``), and the same with the blur held out (Ng's caveat:
  synthesizing a subset of the variation);
- CORAL: Deep CORAL on the last hidden layer's features, source batch against target batch;
- domain confusion: a domain classifier behind a gradient-reversal layer on those features.

Columns: the errors' mean ± sd over the seeds; "vs source only" is the test error's paired
difference per seed, with its 95% t interval (the seeds train the same minibatches in every
arm).
"""

import argparse

import numpy as np

from jaxdiag.data import DomainShift, fit_normalizer, load_digits, make_splits, normalize
from jaxdiag.diagnose.remedy_effect import paired_t_interval
from jaxdiag.search import Data, RemedyTask, member_errors, mlp_task, train_population

ARMS = {  # name: (remedy, held out, weights searched)
    "source only": (None, (), (0.0,)),
    "synthesis": ("synthesis", (), (0.25, 0.5, 1.0)),
    "synthesis, blur held out": ("synthesis", ("blur",), (0.25, 0.5, 1.0)),
    "CORAL": ("coral", (), (0.1, 1.0, 10.0, 100.0)),
    "domain confusion": ("dann", (), (0.01, 0.03, 0.1, 0.3)),
}


def _splits() -> tuple[dict, np.ndarray]:
    splits = make_splits(load_digits(), DomainShift(), unlabelled_target_fraction=0.25, seed=0)
    normalizer = fit_normalizer(splits["train"].data.x)
    arrays = {name: (normalize(s.data.x, normalizer), s.data.y) for name, s in splits.items()}
    return arrays, arrays.pop("target_unlabelled")[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    arrays, unlabelled = _splits()
    shape = arrays["train"][0].shape[1:]
    base = mlp_task(shape, 10, hidden=(128, 128), optimizer="adam")
    seeds = np.arange(args.seeds)
    results = {}
    for name, (remedy, held_out, weights) in ARMS.items():
        task = base if remedy is None else RemedyTask(base, remedy, shape, held_out=held_out)
        data = Data(*arrays["train"], *arrays["dev"],
                    unlabelled if getattr(task, "needs_target", False) else None)
        hp = {"learning_rate": np.full(len(weights) * len(seeds), 3e-4)}
        if remedy is not None:
            hp["remedy_weight"] = np.repeat(weights, len(seeds))
        result = train_population(task, hp, np.tile(seeds, len(weights)), data,
                                  steps=args.steps, batch_size=64, progress=name)
        errors = {k: v.reshape(len(weights), len(seeds)) for k, v in
                  member_errors(task, result, arrays).items()}
        pick = int(np.argmin(errors["dev"].mean(1)))
        results[name] = (weights[pick], {k: v[pick] for k, v in errors.items()})
    print(f"\n{args.seeds} seeds, {args.steps} steps; target: blur 0.7, contrast 0.7, noise 0.2\n")
    print("| arm | weight (picked on dev) | train-dev (source) | dev (target) | test (target) "
          "| mismatch gap (dev - train-dev) | test vs source only (95% interval) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    baseline = results["source only"][1]["test"]
    for name, (weight, e) in results.items():
        def cell(v):
            return f"{100 * v.mean():.2f} ± {100 * v.std(ddof=1):.2f}"

        versus = "—" if name == "source only" else "{:+.2f} [{:+.2f}, {:+.2f}]".format(
            *(100 * v for v in paired_t_interval(e["test"] - baseline)))
        print(f"| {name} | {'—' if name == 'source only' else f'{weight:g}'} | "
              f"{cell(e['train_dev'])} | {cell(e['dev'])} | {cell(e['test'])} | "
              f"{cell(e['dev'] - e['train_dev'])} | {versus} |")


if __name__ == "__main__":
    main()
