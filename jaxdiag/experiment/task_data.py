"""The train / dev / test splits of a multi-task run, with each task's labels."""

from collections.abc import Sequence

import numpy as np

from jaxdiag.data import Dataset, DomainShift, apply_shift
from jaxdiag.data.mapped import take_rows
from jaxdiag.experiment.config import require_key
from jaxdiag.experiment.masked_loss import MISSING
from jaxdiag.experiment.multitask_config import TaskConfig, TaskDataConfig

Labels = dict[str, np.ndarray]
SPLITS = ("train", "dev", "test")


def task_labels(classes: np.ndarray, kept: Sequence[int], task: TaskConfig) -> np.ndarray:
    """int32 labels of ``task`` for examples of class ``classes`` (int array (n,), each in
    ``kept``): the index in ``kept`` for "multiclass"; for "binary", 1 for a class in
    ``task.positive``, else 0."""
    if task.kind == "binary":
        return np.isin(classes, task.positive).astype(np.int32)
    order = np.argsort(kept)
    return order[np.searchsorted(np.asarray(kept)[order], classes)].astype(np.int32)


def head_width(task: TaskConfig, kept: Sequence[int]) -> int:
    """Logits of the task's head: one per kept class for "multiclass", 1 for "binary"."""
    return len(kept) if task.kind == "multiclass" else 1


def kept_classes(dataset: Dataset, config: TaskDataConfig) -> tuple[int, ...]:
    """``config.classes``, checked against the data set, or all its classes when empty."""
    present = sorted(int(c) for c in np.unique(dataset.y))
    if not config.classes:
        return tuple(present)
    absent = [c for c in config.classes if c not in present]
    require_key(not absent and len(set(config.classes)) == len(config.classes),
                "data.classes", f"distinct classes of {dataset.origin} (it has {present})",
                list(config.classes))
    return config.classes


def task_splits(
    dataset: Dataset, config: TaskDataConfig, tasks: Sequence[TaskConfig], seed: int
) -> tuple[dict[str, tuple[np.ndarray, Labels]], dict[str, int]]:
    """Splits ``dataset`` and labels every task.

    The examples of ``config.classes`` are split into dev, test and train with
    ``config.split_seed``; with ``seed``, ``labels_per_class`` training examples of each class
    are kept and ``missing_fraction`` of each task's training labels are set to -1.

    Returns:
      ({"train" | "dev" | "test": (x float32 (n, ...), {task: int32 labels (n,)})},
       {task: head width}).

    Raises:
      ValueError: a class in ``data.classes`` is not in the data, or no positive class of a
        binary task is kept.
    """
    kept = kept_classes(dataset, config)
    for task in tasks:
        require_key(task.kind == "multiclass" or bool(set(task.positive) & set(kept)),
                    f"tasks.{task.name}.positive",
                    f"at least one of the kept classes {list(kept)}", list(task.positive))
    pool = np.flatnonzero(np.isin(dataset.y, kept))
    pool = np.random.default_rng(config.split_seed).permutation(pool)
    n_dev = round(config.dev_fraction * len(pool))
    n_test = round(config.test_fraction * len(pool))
    indices = {"dev": pool[:n_dev], "test": pool[n_dev:n_dev + n_test],
               "train": pool[n_dev + n_test:]}
    rng = np.random.default_rng([seed, 7])
    if config.labels_per_class:
        train = rng.permutation(indices["train"])
        indices["train"] = np.sort(np.concatenate(
            [train[dataset.y[train] == c][:config.labels_per_class] for c in kept]))
    splits = {}
    for name in SPLITS:
        classes = dataset.y[indices[name]]
        labels = {task.name: task_labels(classes, kept, task) for task in tasks}
        if name == "train" and config.missing_fraction:
            for task in tasks:
                hidden = rng.random(len(classes)) < config.missing_fraction
                labels[task.name] = np.where(hidden, MISSING, labels[task.name]).astype(np.int32)
        splits[name] = (take_rows(dataset.x, indices[name]), labels)
    return splits, {task.name: head_width(task, kept) for task in tasks}


def shifted_target(splits: dict, fraction: float, seed: int,
                   shift: DomainShift | None = None) -> tuple[dict, np.ndarray]:
    """The splits of ``task_splits`` with dev and test moved into the built-in synthetic target
    domain (``apply_shift``), and ``fraction`` of train held out of it, shifted, as the target's
    unlabelled inputs.

    Returns:
      (the splits, float32 (m, ...) unlabelled target inputs).

    Raises:
      ValueError: inputs that are not images (the shift is a camera's).
    """
    x_train, labels = splits["train"]
    require_key(x_train.ndim == 4, "adaptation.method",
                "'' for examples that are not images (h, w, c): the target is the built-in "
                "camera shift", f"examples of shape {x_train.shape[1:]}")
    shift = shift or DomainShift()
    order = np.random.default_rng([seed, 11]).permutation(len(x_train))
    held = np.sort(order[:round(fraction * len(x_train))])
    rest = np.sort(order[round(fraction * len(x_train)):])
    moved = {name: (apply_shift(x, shift, seed + i), split_labels)
             for i, (name, (x, split_labels)) in enumerate(splits.items()) if name != "train"}
    train = (x_train[rest], {task: v[rest] for task, v in labels.items()})
    return {"train": train, **moved}, apply_shift(x_train[held], shift, seed + len(splits))
