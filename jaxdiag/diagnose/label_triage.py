"""How far to trust the suspected label errors: planted flips measure the folds on this data.

A copy of the training labels gets a known number of flips (random examples, each moved to a
random other class) and the same folds population runs again. The planted flips it finds
measure its recall on this data, and where in the self-confidence ranking label errors land.
What planting cannot measure is how many of the *original* flags are the model's own confident
mistakes on correct labels: a confident disagreement between model and label reads the same
whichever of the two is wrong, so the number of real label errors is not identifiable from
the data alone. Two figures are honest about that:

- ``precision_at_most``, a bound by mixture-proportion estimation (Blanchard, Lee and Scott,
  JMLR 2010): label errors land in the ranking as the planted ones do, and false alarms only add
  flags, so at every self-confidence c, (real flags up to c) / (all real flags) follows the
  planted flips' share and the flags' own share up to c bounds the real ones' total (both shares
  at the end of their Wilson interval that loosens the bound). Tight when
  the most confident flags are nearly all real (the digits), loose when the model's own
  mistakes are as confident as label errors (a hard task).
- ``precision``, a point estimate, only when the label error rate is known (an audit of a
  random sample, the annotators' agreement): recall x rate x n / flags.

``review_top`` needs neither: the top N flags hold ``coverage`` of the label errors the folds
find, measured on the planted ones.
"""

from typing import NamedTuple

import numpy as np

from jaxdiag.checks import require
from jaxdiag.diagnose.intervals import wilson_interval
from jaxdiag.diagnose.label_errors import LabelErrors

COVERAGE = 0.8  # review the top flags that hold this share of the errors the folds find
BOUND_QUANTILES = (0.25, 0.5, 0.75, 1.0)  # where the bound compares the two rankings


class LabelTriage(NamedTuple):
    """What the planted flips say about the flags.

    Attributes:
      planted: labels flipped in the copy; found: how many of them the copy's folds flagged.
      recall: found / planted, with its Wilson interval ``recall_interval``.
      flags: the original run's suspected label errors.
      review_top: the first ``review_top`` flags (least self-confident first) hold ``coverage``
        of the label errors the folds find.
      coverage: that share.
      precision_at_most: an upper bound on the share of the flags that are real label errors.
      errors_at_most: the matching bound on the number of label errors in the data (inf when no
        planted flip was found).
      error_rate: the label error rate the user gave, or None.
      precision, review_precision: with ``error_rate``, the expected share of real errors among
        all flags and among the top ``review_top``; else None.
    """

    planted: int
    found: int
    recall: float
    recall_interval: tuple[float, float]
    flags: int
    review_top: int
    coverage: float
    precision_at_most: float
    errors_at_most: float
    error_rate: float | None
    precision: float | None
    review_precision: float | None

    @property
    def message(self) -> str:
        low, high = self.recall_interval
        found = (f"the folds find {self.recall:.0%} [{low:.0%}, {high:.0%}] of {self.planted} "
                 "labels flipped on purpose in a copy")
        if not self.flags:
            return found
        if not self.review_top:
            return (f"{found}; none of the {self.flags} flags ranks where {self.coverage:.0%} "
                    "of those it finds do: they look like the model's own confident mistakes")
        share = (f"the top {self.review_top} of the {self.flags} flags hold {self.coverage:.0%} "
                 "of the errors they find")
        if self.precision is not None:
            return (f"{found}; {share}; at {self.error_rate:.1%} label errors, about "
                    f"{self.review_precision:.0%} of those are real ({self.precision:.0%} of "
                    "all flags)")
        return (f"{found}; {share}; at most {self.precision_at_most:.0%} of the flags are real "
                "label errors (the rest are the model's own confident mistakes; set "
                "diagnose.label_error_rate for an estimate)")

    def as_dict(self) -> dict:
        return {**self._asdict(), "recall_interval": list(self.recall_interval),
                "errors_at_most": None if np.isinf(self.errors_at_most)
                else float(self.errors_at_most), "message": self.message}


def plant_label_flips(y: np.ndarray, num_classes: int, count: int,
                      seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A copy of ``y`` with ``count`` labels flipped: distinct random examples, each moved to a
    class drawn uniformly from the other ``num_classes - 1``.

    Args:
      y: int (n,) labels in [0, num_classes); num_classes >= 2; count in [1, n].

    Returns:
      (int (n,) the flipped copy, int (count,) the flipped indices, increasing).
    """
    y = np.asarray(y)
    require(num_classes >= 2, "num_classes", "an integer >= 2", num_classes)
    require(1 <= count <= len(y), "count", f"an integer in [1, {len(y)}]", count)
    rng = np.random.default_rng(seed)
    indices = np.sort(rng.choice(len(y), count, replace=False))
    flipped = y.copy()
    flipped[indices] = (y[indices] + rng.integers(1, num_classes, count)) % num_classes
    return flipped, indices


def triage_label_errors(errors: LabelErrors, planted_errors: LabelErrors, planted: np.ndarray,
                        n: int, *, coverage: float = COVERAGE,
                        error_rate: float | None = None) -> LabelTriage:
    """Recall, review depth and precision of ``errors`` from a copy with planted flips.

    Args:
      errors: the suspected label errors of the n training labels.
      planted_errors: the same folds' suspects on the copy of ``plant_label_flips``.
      planted: int (m,): the flipped indices of that copy.
      n: the number of training labels.
      coverage: the share of the findable errors the recommended review holds, in (0, 1].
      error_rate: the data's label error rate when known (e.g. from an audit), in (0, 1).

    Returns:
      LabelTriage.
    """
    planted = np.asarray(planted)
    require(len(planted) > 0, "planted", "at least one planted flip", len(planted))
    require(0 < coverage <= 1, "coverage", "a value in (0, 1]", coverage)
    if error_rate is not None:
        require(0 < error_rate < 1, "error_rate", "a value in (0, 1)", error_rate)
    hit = np.isin(planted_errors.indices, planted)
    scores = np.sort(planted_errors.self_confidence[hit])  # the found flips' self-confidence
    flags = errors.self_confidence  # increasing: the ranking
    found, total = len(scores), len(flags)
    if found and total:
        review_top = int(np.searchsorted(flags, np.quantile(scores, coverage), side="right"))
        cuts = np.quantile(scores, BOUND_QUANTILES)
        # the share of the flags up to c over the share of the found flips up to c, at its
        # least; each share at its Wilson end that loosens the bound (a few flags say little)
        flag_share = np.array([wilson_interval(int(k), total)[1]
                               for k in np.searchsorted(flags, cuts, side="right")])
        planted_share = np.array([wilson_interval(int(k), found)[0]
                                  for k in np.searchsorted(scores, cuts, side="right")])
        precision_at_most = float(min(1.0, np.min(flag_share / planted_share)))
        errors_at_most = precision_at_most * total * len(planted) / found
    else:
        review_top, precision_at_most = total, 1.0
        errors_at_most = np.inf if not found else 0.0
    recall = found / len(planted)
    precision = review_precision = None
    if error_rate is not None and total:
        precision = min(1.0, recall * error_rate * n / total)
        review_precision = min(1.0, recall * coverage * error_rate * n / max(review_top, 1))
    return LabelTriage(len(planted), found, recall, wilson_interval(found, len(planted)), total,
                       review_top, coverage, precision_at_most, errors_at_most, error_rate,
                       precision, review_precision)
