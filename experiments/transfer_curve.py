"""When does transfer help? Digits 0-4 to digits 5-9 as a curve of labels per class.

    python experiments/transfer_curve.py               # about 5 min on 2 cores
    python experiments/transfer_curve.py --seeds 2 --steps 300   # a quick look

Ng's conditions for transfer from task A to task B: A has much more data, the same inputs, and
A's low-level features help B. Task A: the digits 0-4 (90% of their 901 images; the rest its
dev set); task B: digits 5-9
relabelled 0-4, split once into a training pool (60%), dev and test (20% each). The CNN trunk
(``jaxdiag.models.LeNet``: 3x3 convolutions of 16 and 32 channels, each pooled by 2, a dense
layer of 64, Adam 1e-3) is pretrained once on A for ``--pretrain-steps`` steps. On B, each
protocol is one population: labels per class in {1, 2, 3, 5, 10, 20, all} x ``--seeds`` seeds
(each member draws its own labelled examples from the pool: ``train_masks``), ``--steps`` steps
of 32 drawn with replacement, Adam 1e-3, no early stopping. Protocols
(``jaxdiag.search.TransferTask``; each member's head is its own fresh layer):

- scratch: the CNN from its own initialization;
- head only: the pretrained trunk frozen, the head trained (a linear probe of its features);
- fine-tune: everything trained from the pretrained trunk;
- LP-FT: the trunk frozen for the first half of the steps, then everything (Kumar et al. 2022).

Columns: test accuracy on B in %, mean ± sd over the seeds; "best transfer - scratch" is the
paired difference of the best transfer protocol at that size (by mean) and scratch, with its 95%
t interval.
"""

import argparse

import jax
import numpy as np

from jaxdiag.data import fit_normalizer, load_digits, normalize
from jaxdiag.diagnose.remedy_effect import paired_t_interval
from jaxdiag.models import build_model
from jaxdiag.search import Data, ModelTask, TransferTask, train_population

SIZES = (1, 2, 3, 5, 10, 20, None)  # labels per class; None: the whole pool


def _cnn(key: jax.Array):
    return build_model("cnn", (8, 8, 1), 5, hidden=(64,), channels=(16, 32), seed=key)


def _data() -> tuple[Data, dict, np.ndarray]:
    """Task A's training data; task B's pool, dev and test; B's pool labels."""
    digits = load_digits()
    x = normalize(digits.x, fit_normalizer(digits.x))
    rng = np.random.default_rng(0)
    a = rng.permutation(np.flatnonzero(digits.y < 5))
    a_train, a_dev = np.split(a, [round(0.9 * len(a))])
    order = rng.permutation(np.flatnonzero(digits.y >= 5))
    pool, dev, test = np.split(order, [round(0.6 * len(order)), round(0.8 * len(order))])
    task_b = {name: (x[rows], digits.y[rows] - 5) for name, rows in
              (("pool", pool), ("dev", dev), ("test", test))}
    return (Data(x[a_train], digits.y[a_train], x[a_dev], digits.y[a_dev]), task_b,
            digits.y[pool] - 5)


def _masks(labels: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """bool (sizes x seeds, pool): member (size, seed) keeps ``size`` examples of each class."""
    rows = []
    for size in SIZES:
        for seed in seeds:
            rng = np.random.default_rng([int(seed), size or 0])
            keep = np.zeros(len(labels), bool)
            for c in range(5):
                members = np.flatnonzero(labels == c)
                keep[members if size is None else rng.choice(members, size, replace=False)] = True
            rows.append(keep)
    return np.array(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--pretrain-steps", type=int, default=2000)
    args = parser.parse_args()
    task_a, task_b, pool_labels = _data()
    base = ModelTask(factory=_cnn)
    pretrained = train_population(base, {"learning_rate": np.array([1e-3])}, np.array([0]),
                                  task_a, steps=args.pretrain_steps, batch_size=32,
                                  progress="pretrain on 0-4")
    source = jax.tree.map(lambda v: v[0], pretrained.params)
    seeds = np.arange(args.seeds)
    masks = _masks(pool_labels, seeds)
    data = Data(*task_b["pool"], *task_b["dev"])
    protocols = {"scratch": base,
                 "head only": TransferTask(base, source, "dense_1", args.steps),
                 "fine-tune": TransferTask(base, source, "dense_1", 0),
                 "LP-FT": TransferTask(base, source, "dense_1", args.steps // 2)}
    accuracy = {}
    x_test, y_test = task_b["test"]
    for name, task in protocols.items():
        result = train_population(task, {"learning_rate": np.full(len(masks), 1e-3)},
                                  100 + np.tile(seeds, len(SIZES)), data, steps=args.steps,
                                  batch_size=32, train_masks=masks, progress=name)
        logits = jax.jit(jax.vmap(task.logits, in_axes=(0, 0, None)))(
            result.params, result.model_state, x_test)
        correct = np.argmax(np.asarray(logits), -1) == y_test
        accuracy[name] = correct.mean(axis=1).reshape(len(SIZES), len(seeds))
    print(f"\npretrained on 0-4 ({len(task_a.y_train)} images): {args.pretrain_steps} steps, "
          f"dev accuracy {100 * (1 - float(pretrained.dev_error[0])):.1f}% on its "
          f"{len(task_a.y_dev)} held out; B: {len(pool_labels)} pool, "
          f"{len(task_b['dev'][1])} dev, {len(y_test)} test; {args.seeds} seeds, "
          f"{args.steps} steps\n")
    names = list(protocols)
    print("| labels per class | " + " | ".join(names) + " | best transfer - scratch (95% "
          "interval) |")
    print("|" + " --- |" * (len(names) + 2))
    for i, size in enumerate(SIZES):
        cells = [f"{100 * accuracy[n][i].mean():.1f} ± {100 * accuracy[n][i].std(ddof=1):.1f}"
                 for n in names]
        best = max(names[1:], key=lambda n, i=i: accuracy[n][i].mean())
        change = "{:+.1f} [{:+.1f}, {:+.1f}]".format(
            *(100 * v for v in paired_t_interval(accuracy[best][i] - accuracy["scratch"][i])))
        label = "all" if size is None else str(size)
        print(f"| {label} | " + " | ".join(cells) + f" | {best}: {change} |")


if __name__ == "__main__":
    main()
