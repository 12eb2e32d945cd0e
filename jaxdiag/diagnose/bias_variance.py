"""What the error is made of: avoidable bias, variance, data mismatch, overfitting to dev.

References:
  A. Ng, Machine Learning Yearning / Structuring Machine Learning Projects (2018), the
  chapters on human-level performance and on training and testing on different distributions.
"""

import numbers
from collections.abc import Mapping
from typing import NamedTuple

ACTIONS = {
    "avoidable_bias": (
        "train a bigger model",
        "train longer or with a better optimizer (Adam, tuned learning rate)",
        "try a new architecture or better hyperparameters",
        "reduce regularization",
    ),
    "variance": (
        "get more training data",
        "add regularization (weight decay, dropout, data augmentation)",
        "try a new architecture or better hyperparameters",
        "stop earlier",
    ),
    "data_mismatch": (
        "carry out error analysis on dev to understand how it differs from train",
        "make the training data more like dev/test: collect target-domain data, or synthesize "
        "it (artificial data synthesis)",
    ),
    "dev_overfitting": (
        "get a bigger dev set",
        "tune less against the dev set",
    ),
}
GAPS = tuple(ACTIONS)


def gap_terms(has_train_dev: bool, has_test: bool) -> dict[str, tuple[str, str] | None]:
    """Each gap as the pair of errors it subtracts, (minuend, subtrahend); None where the
    splits it needs are missing. Without a train-dev split, variance is dev - train."""
    return {
        "avoidable_bias": ("train", "human"),
        "variance": ("train_dev" if has_train_dev else "dev", "train"),
        "data_mismatch": ("dev", "train_dev") if has_train_dev else None,
        "dev_overfitting": ("test", "dev") if has_test else None,
    }


class BiasVariance(NamedTuple):
    """The decomposition of the test error into gaps, each a difference of error fractions.

    Attributes:
      errors: the inputs, {"human", "train", "train_dev", "dev", "test"} (None where not given).
      gaps: {"avoidable_bias": train - human,
             "variance": train_dev - train (dev - train without a train-dev set),
             "data_mismatch": dev - train_dev (None without a train-dev set),
             "dev_overfitting": test - dev (None without a test error)}.
      dominant: the name of the largest gap, or None when every gap is at most ``tolerance``
        or, given intervals, not significant.
      actions: recommended next steps for the dominant gap (empty when None).
      intervals: {gap: (low, high) or None}, when given.
      significant: {gap: whether its interval excludes 0}, None without intervals.
    """

    errors: dict[str, float | None]
    gaps: dict[str, float | None]
    dominant: str | None
    actions: tuple[str, ...]
    intervals: dict[str, tuple[float, float] | None] | None = None
    significant: dict[str, bool] | None = None

    def as_dict(self) -> dict:
        return {"errors": self.errors, "gaps": self.gaps, "dominant": self.dominant,
                "actions": list(self.actions),
                "intervals": None if self.intervals is None else {
                    k: None if v is None else list(v) for k, v in self.intervals.items()},
                "significant": self.significant}


def bias_variance(
    human_error: float,
    train_error: float,
    dev_error: float,
    train_dev_error: float | None = None,
    test_error: float | None = None,
    tolerance: float = 0.0,
    intervals: Mapping[str, tuple[float, float] | None] | None = None,
) -> BiasVariance:
    """Ng's bias / variance / data-mismatch analysis.

    Args:
      human_error: human-level error, the proxy for Bayes error, a fraction in [0, 1].
      train_error: error on the training set.
      dev_error: error on the dev set (target distribution).
      train_dev_error: error on a held-out split of the training distribution; separates
        variance from data mismatch.
      test_error: error on the test set (target distribution).
      tolerance: gaps at most this large do not count as dominant.
      intervals: each gap's confidence interval (``error_intervals(...).gaps``); a gap whose
        interval contains 0 is not significant and is never the dominant one.

    Returns:
      BiasVariance with the gaps, the dominant one and what to do about it.

    Raises:
      ValueError: an error that is not a fraction in [0, 1], naming the argument.

    Example (Ng): human 1%, train 8%, dev 10% -> avoidable bias 7% dominates;
    human 7.5%, train 8%, dev 10% -> variance 2% dominates.
    """
    errors = {"human": human_error, "train": train_error, "train_dev": train_dev_error,
              "dev": dev_error, "test": test_error}
    for name, value in errors.items():
        if value is None and name in ("train_dev", "test"):
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
                not 0.0 <= value <= 1.0:
            raise ValueError(
                f"{name}_error: expected an error fraction in [0, 1], found {value!r}."
            )
    errors = {name: None if v is None else float(v) for name, v in errors.items()}
    terms = gap_terms(errors["train_dev"] is not None, errors["test"] is not None)
    gaps = {gap: None if term is None else errors[term[0]] - errors[term[1]]
            for gap, term in terms.items()}
    significant = None
    if intervals is not None:
        intervals = {gap: None if intervals.get(gap) is None else tuple(intervals[gap])
                     for gap in gaps}
        significant = {gap: interval is not None and (interval[0] > 0 or interval[1] < 0)
                       for gap, interval in intervals.items()}
    present = {k: v for k, v in gaps.items() if v is not None and v > tolerance
               and (significant is None or significant[k])}
    dominant = max(present, key=present.get) if present else None
    return BiasVariance(errors, gaps, dominant, ACTIONS[dominant] if dominant else (),
                        intervals, significant)
