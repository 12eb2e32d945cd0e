"""Sanity checks: the initial loss, the scale of the inputs, the labels, and chance level.

Each is a cheap test that catches a common silent bug (Full Stack Deep Learning's
troubleshooting lecture; Karpathy's "A recipe for training neural networks"): a softmax
classifier at initialization should lose about ln(C); inputs should be about zero-mean with
unit variance; every class should be present and none should swamp the others; after
training, held-out error should be clearly below what a model that ignores its inputs gets.
"""

import math
from typing import NamedTuple

import numpy as np

INITIAL_LOSS_TOLERANCE = 0.5  # the initial loss may sit within 50% of ln(C)
MAX_ABS_MEAN = 1.0  # inputs whose overall mean is further from 0 are not normalized
STD_RANGE = (0.1, 10.0)  # nor are inputs whose overall standard deviation is outside this
STATISTICS_ROWS = 16_384  # rows of the input statistics computed at once
MAX_IMBALANCE = 10.0  # most frequent over least frequent class count
CHANCE_MARGIN = 2.0  # held-out error within this many standard errors of chance is at chance


class SanityCheck(NamedTuple):
    """The outcome of one check.

    Attributes:
      name: "initial_loss", "input_scale", "labels" or "chance_level".
      ok: whether it passed.
      values: the measured numbers (plain floats, ints and lists).
      message: what was found, in one sentence.
      causes: likely causes when it failed (empty when ok).
    """

    name: str
    ok: bool
    values: dict
    message: str
    causes: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"name": self.name, "ok": self.ok, "values": self.values,
                "message": self.message, "causes": list(self.causes)}


def initial_loss_check(initial_loss: float, num_classes: int,
                       tolerance: float = INITIAL_LOSS_TOLERANCE) -> SanityCheck:
    """Compares a softmax classifier's loss at initialization with ln(num_classes).

    Args:
      initial_loss: mean cross-entropy of the untrained model on a batch.
      num_classes: C >= 2.
      tolerance: passes when the ratio loss / ln(C) lies in [1 - tolerance, 1 + tolerance].

    Returns:
      SanityCheck "initial_loss" with values {"loss", "expected", "ratio"}.
    """
    if num_classes < 2:
        raise ValueError(f"num_classes: expected at least 2, found {num_classes}.")
    expected = math.log(num_classes)
    ratio = float(initial_loss) / expected
    ok = math.isfinite(ratio) and abs(ratio - 1) <= tolerance
    causes = () if ok else (
        ("the last layer's initial weights are too large: the untrained model is confident",
         "the inputs are not normalized") if not math.isfinite(ratio) or ratio > 1
        else ("the loss is not the mean cross-entropy over the classes (wrong reduction or "
              "axis)", "the labels leak into the inputs"))
    return SanityCheck(
        "initial_loss", ok, {"loss": float(initial_loss), "expected": expected, "ratio": ratio},
        f"initial loss {float(initial_loss):.4g} against ln({num_classes}) = {expected:.4g} "
        f"({ratio:.2f}x)", causes)


def input_scale_check(x: np.ndarray) -> SanityCheck:
    """Whether inputs look normalized: overall mean near 0 and standard deviation near 1.

    Args:
      x: float array, shape (n, ...).

    Returns:
      SanityCheck "input_scale" with values {"mean", "std", "min", "max",
      "constant_features"}; it fails when |mean| > 1 or the std is outside [0.1, 10].
    """
    if np.ndim(x) < 2 or len(x) == 0:
        raise ValueError(f"x: expected an array of shape (n, ...) with n >= 1, "
                         f"found {np.shape(x)}.")
    # float64 statistics a block of rows at a time (a float64 copy of the whole input was
    # 2x its float32 size), blocks merged by Chan's update; one block gives numpy's numbers
    flat = np.asarray(x).reshape(len(x), -1)
    count, mean, m2, bad = 0, 0.0, 0.0, 0
    low, high = np.inf, -np.inf
    feature_low = np.full(flat.shape[1], np.inf)
    feature_high = np.full(flat.shape[1], -np.inf)
    for start in range(0, len(flat), STATISTICS_ROWS):
        block = np.asarray(flat[start:start + STATISTICS_ROWS], np.float64)
        bad += int(block.size - np.count_nonzero(np.isfinite(block)))
        if bad:
            continue
        block_mean = block.mean()
        block_m2 = float(((block - block_mean) ** 2).sum())
        delta, total = block_mean - mean, count + block.size
        mean, m2 = mean + delta * block.size / total, m2 + block_m2 + delta**2 * count * (
            block.size / total)
        count = total
        low, high = min(low, block.min()), max(high, block.max())
        feature_low = np.minimum(feature_low, block.min(axis=0))
        feature_high = np.maximum(feature_high, block.max(axis=0))
    if bad:
        return SanityCheck("input_scale", False, {"non_finite": bad},
                           f"{bad} input values are NaN or Inf", ("missing values read as NaN",
                                                                  "a division by zero upstream"))
    mean, std = float(mean), float(np.sqrt(m2 / count))
    constant = int(np.sum(feature_low == feature_high))  # a zero standard deviation
    values = {"mean": mean, "std": std, "min": float(low), "max": float(high),
              "constant_features": constant}
    ok = abs(mean) <= MAX_ABS_MEAN and STD_RANGE[0] <= std <= STD_RANGE[1]
    return SanityCheck(
        "input_scale", ok, values,
        f"inputs have mean {mean:.3g} and standard deviation {std:.3g} "
        f"(range {values['min']:.3g} to {values['max']:.3g}; {constant} constant features)",
        () if ok else ("the inputs are not normalized: subtract the training mean and divide "
                       "by the training standard deviation (or scale images to [0, 1])",))


def label_check(y: np.ndarray, num_classes: int,
                max_imbalance: float = MAX_IMBALANCE) -> SanityCheck:
    """Class counts and imbalance of integer labels.

    Args:
      y: int array, shape (n,), labels in [0, num_classes).
      num_classes: C.
      max_imbalance: fails when the most frequent class outnumbers the least frequent by more.

    Returns:
      SanityCheck "labels" with values {"counts" (list of C ints), "imbalance" (max / min
      count, inf with a missing class), "missing" (classes with no example)}.

    Raises:
      ValueError: y not 1-D integers in [0, num_classes).
    """
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y: expected a 1-D integer array, found {y.dtype} of shape {y.shape}.")
    if len(y) and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"y: expected labels in [0, {num_classes}), found "
                         f"{int(y.min())}..{int(y.max())}.")
    counts = np.bincount(y, minlength=num_classes)
    missing = np.flatnonzero(counts == 0).tolist()
    imbalance = float(counts.max() / counts.min()) if counts.min() > 0 else math.inf
    ok = not missing and imbalance <= max_imbalance
    causes = ()
    if missing:
        causes = ("the split leaves these classes out, or the labels are encoded wrongly",)
    elif not ok:
        causes = ("a rare class: report per-class recall or F1 rather than accuracy, and "
                  "reweight or resample (jaxdiag run --set remedy=class_weights, or "
                  "remedy=balanced, measures either against the model as it is)",)
    return SanityCheck(
        "labels", ok, {"counts": counts.tolist(), "imbalance": imbalance, "missing": missing},
        f"{len(y)} labels over {num_classes} classes, imbalance {imbalance:.3g}x"
        + (f", classes {missing} missing" if missing else ""), causes)


def chance_level_check(split: str, error: float, y_split: np.ndarray, y_train: np.ndarray,
                       num_classes: int, train_error: float | None = None) -> SanityCheck:
    """Whether a trained model beats chance on the held-out ``split``.

    Chance is the lower of two errors of a model that ignores its inputs: always predicting
    the training split's majority class, and guessing uniformly (1 - 1/C). The check fails
    when ``error`` is within ``CHANCE_MARGIN`` standard errors of chance (or above it): labels
    that do not belong to their inputs (a shuffled join of features and labels) give exactly
    that, with a training error below chance (memorized noise): the labels are then the first
    suspect. With the training error at chance too, the model learns nothing (a diverged or
    broken training), and that is the first suspect.

    Args:
      split: the held-out split's name, e.g. "train_dev".
      error: the model's error on it, a fraction.
      y_split: int labels of that split, shape (n,).
      y_train: int labels of the training split, shape (m,).
      num_classes: C >= 2.
      train_error: the training error, to tell memorized noise from a model that learns
        nothing.

    Returns:
      SanityCheck "chance_level" with values {"split", "error", "chance", "majority_error",
      "uniform_error", "size", "train_below_chance"}.
    """
    y_split, y_train = np.asarray(y_split), np.asarray(y_train)
    majority = int(np.bincount(y_train, minlength=num_classes).argmax())
    majority_error = float(np.mean(y_split != majority))
    uniform_error = 1 - 1 / num_classes
    chance = min(majority_error, uniform_error)
    margin = CHANCE_MARGIN * math.sqrt(chance * (1 - chance) / max(len(y_split), 1))
    ok = error < chance - margin
    memorized = train_error is not None and train_error < chance - margin
    values = {"split": split, "error": float(error), "chance": chance,
              "majority_error": majority_error, "uniform_error": uniform_error,
              "size": len(y_split), "train_below_chance": memorized}
    message = (f"{split} error {error:.1%} is {'clearly below' if ok else 'at'} chance "
               f"({chance:.1%}: always the majority class {majority_error:.1%}, uniform "
               f"guessing {uniform_error:.1%}, ± {margin:.1%} for {len(y_split)} examples)"
               + ("" if ok or train_error is None else
                  f", while the training error is {train_error:.1%}"))
    mismatch = ("labels do not match inputs: check the join of features and labels (row "
                "order, ids, the label column) before reading any gap")
    causes = () if ok else (
        (mismatch, "the model memorizes the training labels but learns nothing that "
         "generalizes") if memorized else
        ("the model learns nothing that beats chance, on train either: fix the training "
         "first (overfit one batch, the loss curve, the learning rate)", mismatch))
    return SanityCheck("chance_level", ok, values, message, causes)
