"""Re-balancing a rare class: class weights and class-balanced sampling on imbalanced digits.

    python experiments/remedies_imbalance.py              # about 2 min on 2 cores
    python experiments/remedies_imbalance.py --seeds 2    # a quick look

The digits split into train / train-dev / dev / test from the source domain (no shift); in
train, digits 0-4 keep a tenth of their examples (about 16 each against 160 of 5-9), while
train-dev, dev and test keep the natural, balanced mix. The main job's MLP (128 x 128 ReLU, Adam
3e-4, batches of 64, ``--steps`` steps) trains as one population per remedy
(``jaxdiag.search.RemedyTask``): its weights x the seeds; the weight is picked by the mean dev
macro F1 over the seeds and reported on test. Arms: none; class weights (inverse class
frequencies to the power of the weight); class-balanced sampling (that share of each batch drawn
class-balanced). Columns: mean ± sd over the seeds of test accuracy, macro F1 (jaxdiag.metrics,
scikit-learn's definition), and the mean recall of the rare (0-4) and the common (5-9) classes;
"vs none" is macro F1's paired difference per seed with its 95% t interval.
"""

import argparse

import jax
import numpy as np

from jaxdiag.data import fit_normalizer, load_digits, make_splits, normalize
from jaxdiag.diagnose.remedy_effect import paired_t_interval
from jaxdiag.metrics import f1_score, recall_score
from jaxdiag.search import Data, RemedyTask, inverse_frequency_weights, mlp_task, train_population

RARE = 5  # digits below this keep a tenth of their training examples
ARMS = {"none": (None, (0.0,)), "class weights": ("class_weights", (0.5, 1.0)),
        "balanced sampling": ("balanced", (0.5, 1.0))}


def _arrays() -> dict:
    splits = make_splits(load_digits(), None, seed=0)
    x, y = splits["train"].data.x, splits["train"].data.y
    keep = (y >= RARE) | (np.arange(len(y)) % 10 == 0)
    normalizer = fit_normalizer(x[keep])
    arrays = {name: (normalize(s.data.x, normalizer), s.data.y) for name, s in splits.items()}
    arrays["train"] = (arrays["train"][0][keep], y[keep])
    return arrays


def _scores(task, result, arrays) -> dict[str, np.ndarray]:
    """{metric: (K,)} on dev (macro F1) and test (accuracy, macro F1, rare and common recall)."""
    logits = jax.jit(jax.vmap(task.logits, in_axes=(0, 0, None)))
    out = {}
    for split in ("dev", "test"):
        x, y = arrays[split]
        predicted = np.argmax(np.asarray(logits(result.params, result.model_state, x)), -1)
        out[f"{split} f1"] = np.array([float(f1_score(y, p, average="macro")) for p in predicted])
        if split == "test":
            recall = np.array([np.asarray(recall_score(y, p, average=None)) for p in predicted])
            out["accuracy"] = np.mean(predicted == y, axis=1)
            out["rare recall"] = recall[:, :RARE].mean(1)
            out["common recall"] = recall[:, RARE:].mean(1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    arrays = _arrays()
    x, y = arrays["train"]
    shape = x.shape[1:]
    base = mlp_task(shape, 10, hidden=(128, 128), optimizer="adam")
    seeds = np.arange(args.seeds)
    results = {}
    for name, (remedy, weights) in ARMS.items():
        task = base if remedy is None else RemedyTask(
            base, remedy, shape, class_weights=inverse_frequency_weights(y, 10), num_classes=10)
        hp = {"learning_rate": np.full(len(weights) * len(seeds), 3e-4)}
        if remedy is not None:
            hp["remedy_weight"] = np.repeat(weights, len(seeds))
        result = train_population(task, hp, np.tile(seeds, len(weights)),
                                  Data(x, y, *arrays["dev"]), steps=args.steps, batch_size=64,
                                  progress=name)
        scores = {k: v.reshape(len(weights), len(seeds))
                  for k, v in _scores(task, result, arrays).items()}
        pick = int(np.argmax(scores["dev f1"].mean(1)))
        results[name] = (weights[pick], {k: v[pick] for k, v in scores.items()})
    counts = np.bincount(y, minlength=10)
    print(f"\n{args.seeds} seeds, {args.steps} steps; train counts per class {counts.tolist()}\n")
    print("| arm | weight (picked on dev) | test accuracy | macro F1 | recall 0-4 (rare) "
          "| recall 5-9 | macro F1 vs none (95% interval) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    baseline = results["none"][1]["test f1"]
    for name, (weight, s) in results.items():
        def cell(v):
            return f"{100 * v.mean():.2f} ± {100 * v.std(ddof=1):.2f}"

        versus = "—" if name == "none" else "{:+.2f} [{:+.2f}, {:+.2f}]".format(
            *(100 * v for v in paired_t_interval(s["test f1"] - baseline)))
        print(f"| {name} | {'—' if name == 'none' else f'{weight:g}'} | {cell(s['accuracy'])} | "
              f"{cell(s['test f1'])} | {cell(s['rare recall'])} | {cell(s['common recall'])} | "
              f"{versus} |")


if __name__ == "__main__":
    main()
