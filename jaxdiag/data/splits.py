"""Train / train-dev / dev / test splits with a source and a target domain (Ng, ch. on mismatch).

train and train-dev come from the source distribution; dev and test from the target
distribution the model must work on. The train-dev split is what tells variance (train to
train-dev) apart from data mismatch (train-dev to dev).
"""

import dataclasses
from typing import NamedTuple

import numpy as np

from jaxdiag.data.dataset import Dataset
from jaxdiag.data.shift import DomainShift, apply_shift

SOURCE, TARGET = "source", "target"


class Split(NamedTuple):
    """One split's examples and the domain ("source" or "target") they come from."""

    data: Dataset
    domain: str


def make_splits(
    source: Dataset,
    target: Dataset | DomainShift | None,
    *,
    target_fraction: float = 0.4,
    train_dev_fraction: float = 0.15,
    unlabelled_target_fraction: float = 0.0,
    seed: int = 0,
) -> dict[str, Split]:
    """Splits data into train, train_dev, dev and test.

    Args:
      source: the training distribution.
      target: where dev and test come from. A Dataset: the target domain's own examples,
        halved into dev and test. A DomainShift: ``target_fraction`` of the source examples are
        held out, moved into a synthetic target domain and halved into dev and test; their
        unshifted copies form a fifth split ``test_source`` beside ``test``, so the same
        examples are scored in both domains. None: dev and test are held-out source examples.
      target_fraction: fraction of ``source`` held out for dev and test when ``target`` is not
        a Dataset, in (0, 1).
      train_dev_fraction: fraction of the remaining source examples kept for train-dev, in (0, 1).
      unlabelled_target_fraction: in [0, 1): a split "target_unlabelled" of target-domain
        inputs for domain adaptation, disjoint from the others (its labels are for scoring
        only): with a DomainShift, this fraction of the training examples, moved out of train
        and shifted with noise of their own (train-dev, dev and test stay as they are); with a
        target Dataset, this fraction of its examples, taken before the dev/test halving.
        0: none (the splits are as without it).
      seed: seed of the shuffles and of the shift's noise.

    Returns:
      dict from split name to Split, in the order train, train_dev, dev, test[, test_source]
      [, target_unlabelled].

    Raises:
      ValueError: a fraction outside (0, 1), a split that would be empty, or a target data
        set whose input shape or classes do not match the source.
    """
    for name, value in (("target_fraction", target_fraction),
                        ("train_dev_fraction", train_dev_fraction)):
        if not 0 < value < 1:
            raise ValueError(f"{name}: expected a value in (0, 1), found {value}.")
    if not 0 <= unlabelled_target_fraction < 1:
        raise ValueError(f"unlabelled_target_fraction: expected a value in [0, 1), found "
                         f"{unlabelled_target_fraction}.")
    if unlabelled_target_fraction and target is None:
        raise ValueError("unlabelled_target_fraction: expected a target domain (a Dataset or "
                         "a DomainShift), found None.")
    rng = np.random.default_rng(seed)
    # Each split is taken from the source (or target) once, through composed indices: taking
    # the kept examples and then the splits from them held the data three times at once.
    if isinstance(target, Dataset):
        _check_compatible(source, target)
        names = max(source.class_names, target.class_names, key=len)
        kept, kept_index = dataclasses.replace(source, class_names=names), np.arange(len(source))
        pool, pool_index = dataclasses.replace(target, class_names=names), np.arange(len(target))
        domain = TARGET
    else:
        order = rng.permutation(len(source))
        cut = _cut(len(source), target_fraction, "target_fraction", source.origin)
        kept = pool = source
        kept_index, pool_index = np.sort(order[cut:]), np.sort(order[:cut])
        domain = SOURCE if target is None else TARGET
    order = rng.permutation(len(kept_index))
    cut = _cut(len(kept_index), train_dev_fraction, "train_dev_fraction", kept.origin)
    splits = {
        "train": Split(kept.take(kept_index[np.sort(order[cut:])]), SOURCE),
        "train_dev": Split(kept.take(kept_index[np.sort(order[:cut])]), SOURCE),
    }
    unlabelled = None
    if unlabelled_target_fraction:  # from a generator of its own: the other splits stay as they are
        base = pool if isinstance(target, Dataset) else splits["train"].data  # all of it
        order_u = np.random.default_rng([seed, 1]).permutation(len(base))
        cut_u = _cut(len(base), unlabelled_target_fraction, "unlabelled_target_fraction",
                     base.origin)
        unlabelled, rest = base.take(np.sort(order_u[:cut_u])), base.take(np.sort(order_u[cut_u:]))
        if isinstance(target, Dataset):
            pool, pool_index = rest, np.arange(len(rest))
        else:
            splits["train"] = Split(rest, SOURCE)
            unlabelled = unlabelled.with_x(apply_shift(unlabelled.x, target, seed + 1),
                                           f"{unlabelled.origin} (shifted)")
    order = rng.permutation(len(pool_index))
    half = _cut(len(pool_index), 0.5, "the dev/test halving", pool.origin)
    dev_index, test_index = pool_index[np.sort(order[:half])], pool_index[np.sort(order[half:])]
    dev, test = pool.take(dev_index), pool.take(test_index)
    if isinstance(target, DomainShift):
        target_pool = pool.take(pool_index)
        shifted = apply_shift(target_pool.x, target, seed)
        origin = f"{target_pool.origin} (shifted)"
        splits["dev"] = Split(dev.with_x(shifted[np.sort(order[:half])], origin), TARGET)
        splits["test"] = Split(test.with_x(shifted[np.sort(order[half:])], origin), TARGET)
        splits["test_source"] = Split(test, SOURCE)
    else:
        splits["dev"], splits["test"] = Split(dev, domain), Split(test, domain)
    if unlabelled is not None:
        splits["target_unlabelled"] = Split(unlabelled, TARGET)
    return splits


def _cut(n: int, fraction: float, name: str, origin: str) -> int:
    """Index that puts round(fraction * n) examples on one side, or an error if a side is empty."""
    cut = round(fraction * n)
    if not 0 < cut < n:
        raise ValueError(
            f"{name}: {fraction} of {n} examples from {origin!r} leaves an empty split; "
            f"expected at least one example on each side."
        )
    return cut


def _check_compatible(source: Dataset, target: Dataset) -> None:
    if source.input_shape != target.input_shape:
        raise ValueError(
            f"target data {target.origin!r}: expected inputs of shape {source.input_shape} like "
            f"the source {source.origin!r}, found {target.input_shape}."
        )
    if target.class_names[: source.num_classes] != source.class_names[: target.num_classes]:
        raise ValueError(
            f"target data {target.origin!r}: expected the classes of the source "
            f"{source.class_names}, found {target.class_names}."
        )
