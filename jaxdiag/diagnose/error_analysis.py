"""Error analysis (Ng): look at the mistakes, tally what they are made of, bound each fix.

The worst mistakes are the wrong predictions made with the highest confidence; the costly
confusions are the (true, predicted) pairs with the most errors; a category's ceiling is how
much the error rate would fall if every mistake in it were fixed, which is what a category is
worth working on.
"""

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np


class Mistakes(NamedTuple):
    """The most confident wrong predictions, most confident first.

    Attributes:
      indices, y_true, y_pred: int (m,); confidence: float (m,), the probability of y_pred.
    """

    indices: np.ndarray
    y_true: np.ndarray
    y_pred: np.ndarray
    confidence: np.ndarray

    def as_dict(self) -> list[dict]:
        return [{"index": int(i), "true": int(t), "predicted": int(p), "confidence": float(c)}
                for i, t, p, c in zip(*self, strict=True)]


def worst_mistakes(y_true: np.ndarray, probabilities: np.ndarray, k: int = 16) -> Mistakes:
    """The ``k`` wrong predictions with the highest confidence.

    Args:
      y_true: int (n,) labels; probabilities: float (n, C) predicted probabilities.
      k: how many to return (fewer when there are fewer mistakes).
    """
    y_true, p = _check(y_true, probabilities)
    y_pred = np.argmax(p, axis=1)
    confidence = p[np.arange(len(p)), y_pred]
    wrong = np.flatnonzero(y_pred != y_true)
    top = wrong[np.argsort(-confidence[wrong], kind="stable")[:k]]
    return Mistakes(top, y_true[top], y_pred[top], confidence[top])


def costly_confusions(confusion: np.ndarray, class_names: tuple[str, ...] | None = None,
                      top: int = 5) -> list[dict]:
    """The off-diagonal cells of a confusion matrix with the most errors.

    Args:
      confusion: int (C, C), [true, predicted] counts.
      class_names: C names; the class indices when None.
      top: how many pairs.

    Returns:
      [{"true", "predicted", "count", "share_of_errors", "ceiling"}], most costly first;
      ceiling is the error rate that fixing the pair would remove (count / all examples).
    """
    confusion = np.asarray(confusion)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1]:
        raise ValueError(f"confusion: expected a square matrix, found shape {confusion.shape}.")
    names = class_names or tuple(str(i) for i in range(len(confusion)))
    off = confusion * (1 - np.eye(len(confusion), dtype=confusion.dtype))
    errors, total = off.sum(), confusion.sum()
    flat = np.argsort(-off, axis=None, kind="stable")[:top]
    pairs = []
    for true, pred in zip(*np.unravel_index(flat, off.shape), strict=True):
        if off[true, pred] == 0:
            break
        count = int(off[true, pred])
        pairs.append({"true": names[true], "predicted": names[pred], "count": count,
                      "share_of_errors": count / errors, "ceiling": count / total})
    return pairs


def error_categories(y_true: np.ndarray, y_pred: np.ndarray,
                     tags: Mapping[str, np.ndarray]) -> list[dict]:
    """Ng's error-analysis tally: each category's share of the mistakes and its ceiling.

    Args:
      y_true, y_pred: int (n,) labels and predictions.
      tags: {category: bool (n,)}, True where an example belongs to the category (user
        supplied: "blurry", "dog", "mislabelled"...); categories may overlap.

    Returns:
      [{"category", "errors", "share_of_errors", "ceiling", "error_rate_in_category"}],
      largest ceiling first. ceiling = the category's mistakes / n: fixing every one of them
      lowers the error rate by at most this much.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true, y_pred: expected two 1-D arrays of one shape, found "
                         f"{y_true.shape} and {y_pred.shape}.")
    wrong = y_true != y_pred
    rows = []
    for name, tag in tags.items():
        tag = np.asarray(tag)
        if tag.shape != y_true.shape or tag.dtype != bool:
            raise ValueError(f"tags[{name!r}]: expected a bool array of shape {y_true.shape}, "
                             f"found {tag.dtype} of shape {tag.shape}.")
        errors = int(np.sum(wrong & tag))
        rows.append({"category": name, "errors": errors,
                     "share_of_errors": errors / max(int(wrong.sum()), 1),
                     "ceiling": errors / len(y_true),
                     "error_rate_in_category": errors / max(int(tag.sum()), 1)})
    return sorted(rows, key=lambda r: -r["ceiling"])


def _check(y_true: np.ndarray, probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true, p = np.asarray(y_true), np.asarray(probabilities)
    if p.ndim != 2 or y_true.shape != (len(p),):
        raise ValueError(f"y_true, probabilities: expected shapes (n,) and (n, C), found "
                         f"{y_true.shape} and {p.shape}.")
    return y_true, p
