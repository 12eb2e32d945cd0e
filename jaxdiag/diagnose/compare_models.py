"""Is model B better than model A on the same examples? Paired bootstrap and McNemar's test.

Both models are scored on every (Poisson) bootstrap resample of the same examples, so what
they share (the hard examples) cancels out of the difference: a paired interval is much
narrower than two separate ones. For the error rate McNemar's exact test is given too; it
reads only the examples on which the two models disagree.

References:
  Q. McNemar, Note on the sampling error of the difference between correlated proportions or
  percentages, Psychometrika 12 (1947); T. G. Dietterich, Approximate statistical tests for
  comparing supervised classification learning algorithms, Neural Computation 10 (1998).
"""

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxdiag.checks import require
from jaxdiag.diagnose.bootstrap import bootstrap, percentile_interval
from jaxdiag.diagnose.intervals import CONFIDENCE, RESAMPLES, check_bootstrap
from jaxdiag.kernels import average_precision, curve_order, reweighted_curve, roc_auc

METRICS = ("error", "roc_auc", "average_precision")


class McNemar(NamedTuple):
    """McNemar's test of two models' error rates on the same examples.

    Attributes:
      only_a_right, only_b_right: examples that only model A (only model B) got right.
      statistic: the chi-square statistic with continuity correction, (|b - c| - 1)^2 / (b + c)
        (0 when the models never disagree).
      p_value: the exact two-sided binomial p-value, 2 P(X <= min(b, c)) for X ~ Bin(b + c, 1/2),
        at most 1 (McNemar's exact test).
      p_value_chi2: the p-value of ``statistic`` against chi-square with one degree of freedom.
    """

    only_a_right: int
    only_b_right: int
    statistic: float
    p_value: float
    p_value_chi2: float


def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray) -> McNemar:
    """McNemar's test from two bool arrays (n,): which examples each model got right."""
    correct_a, correct_b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    b = int(np.sum(correct_a & ~correct_b))
    c = int(np.sum(~correct_a & correct_b))
    disagree = b + c
    if disagree == 0:
        return McNemar(b, c, 0.0, 1.0, 1.0)
    k = np.arange(min(b, c) + 1)
    log_terms = (math.lgamma(disagree + 1) - np.array([math.lgamma(i + 1) for i in k])
                 - np.array([math.lgamma(disagree - i + 1) for i in k]) - disagree * math.log(2))
    top = log_terms.max()
    tail = math.exp(top) * float(np.sum(np.exp(log_terms - top)))
    statistic = (abs(b - c) - 1) ** 2 / disagree
    return McNemar(b, c, statistic, min(1.0, 2 * tail), math.erfc(math.sqrt(statistic / 2)))


class ModelComparison(NamedTuple):
    """Model B against model A on the same examples.

    Attributes:
      metric: "error", "roc_auc" or "average_precision".
      a, b: each model's metric on all the examples.
      difference: b - a.
      interval: the paired bootstrap percentile interval of the difference at ``confidence``.
      p_value: the paired bootstrap's two-sided p-value of "no difference": the share of
        resampled differences at least |difference| away from the measured one, (1 + count) /
        (1 + resamples).
      mcnemar: McNemar's test for the error rate; None for the ranking metrics.
    """

    metric: str
    a: float
    b: float
    difference: float
    interval: tuple[float, float]
    p_value: float
    confidence: float
    resamples: int
    mcnemar: McNemar | None

    def as_dict(self) -> dict:
        return {**self._asdict(), "interval": list(self.interval),
                "mcnemar": None if self.mcnemar is None else self.mcnemar._asdict()}


def compare_models(
    y_true: np.ndarray,
    pred_a: np.ndarray,
    pred_b: np.ndarray,
    *,
    metric: str = "error",
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> ModelComparison:
    """Paired bootstrap (and, for the error, McNemar's test) of model B against model A.

    Args:
      y_true: int labels, shape (n,).
      pred_a, pred_b: each model's predictions: for "error", labels (n,) or scores (n, C)
        (their argmax); for "roc_auc" and "average_precision", the positive class's score (n,)
        of binary labels 0/1, or scores (n, C): column 1 when C = 2, else the macro average
        of each class against the rest (scikit-learn's ``average="macro"``, ``"ovr"``).
      metric: one of ``METRICS``.
      confidence: the interval's level.
      resamples: bootstrap resamples, all in one compiled call.
      seed: the resamples' seed.

    Returns:
      ModelComparison with both values, their difference, its interval and p-value.

    Raises:
      ValueError: an unknown metric, shapes that do not match, or non-finite scores.
    """
    require(metric in METRICS, "metric", f"one of {METRICS}", metric)
    check_bootstrap(confidence, resamples)
    y = np.asarray(y_true)
    require(y.ndim == 1 and len(y) > 0, "y_true", "a non-empty 1-D array of labels", y.shape)
    preds = []
    for name, pred in (("pred_a", pred_a), ("pred_b", pred_b)):
        pred = np.asarray(pred)
        require(pred.shape[:1] == y.shape and pred.ndim in (1, 2), name,
                f"an array of shape ({len(y)},) or ({len(y)}, classes)", pred.shape)
        if metric != "error" or pred.ndim == 2:
            require(bool(np.all(np.isfinite(pred))), name, "finite scores",
                    "NaN or infinite values")
        preds.append(pred)
    key = jax.random.key(seed)
    if metric == "error":
        correct = [(p.argmax(axis=1) if p.ndim == 2 else p) == y for p in preds]
        values = [np.mean(~c) for c in correct]
        change, size = np.asarray(_paired_mistakes(key, *map(jnp.asarray, correct), resamples),
                                  np.float64).T
        samples = change / size
        test = mcnemar(*correct)
    else:
        problems = [_binary_problems(y, p, name) for p, name in zip(preds, ("pred_a", "pred_b"),
                                                                    strict=True)]
        require(problems[0][1].shape == problems[1][1].shape, "pred_b",
                f"scores of the shape of pred_a's, {np.shape(preds[0])}", np.shape(preds[1]))
        values, samples = _paired_areas(key, *problems[0], *problems[1], metric, resamples)
        test = None
    a, b = (float(v) for v in np.asarray(values, np.float64))
    differences = np.asarray(samples, np.float64)
    differences = differences[np.isfinite(differences)]
    difference = b - a
    far = np.sum(np.abs(differences - difference) >= abs(difference))
    return ModelComparison(metric, a, b, difference, percentile_interval(differences, confidence),
                           float((1 + far) / (1 + len(differences))), confidence, resamples, test)


def _binary_problems(y: np.ndarray, pred: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(labels, scores), each (K, n): the K one-vs-rest problems the ranking metric averages."""
    if pred.ndim == 1 or pred.shape[1] == 2:
        scores = pred if pred.ndim == 1 else pred[:, 1]
        require(bool(np.all(np.isin(y, (0, 1)))), "y_true",
                "binary labels 0/1 for 1-D scores or scores of 2 columns", np.unique(y)[:10])
        return (y == 1)[None], scores[None].astype(np.float32)
    classes = np.arange(pred.shape[1])
    require(bool(np.all(np.isin(y, classes))), "y_true",
            f"labels in [0, {pred.shape[1]}) for the {pred.shape[1]} columns of {name}",
            np.unique(y)[:10])
    return (y[None] == classes[:, None]), pred.T.astype(np.float32)


@functools.partial(jax.jit, static_argnames="resamples")
def _paired_mistakes(key, correct_a, correct_b, resamples):
    """(B's mistakes minus A's, the resample's size) of each resample, (resamples, 2): float32
    integers, exact below 2**24."""
    n = correct_a.shape[0]
    change = correct_a.astype(jnp.float32) - correct_b.astype(jnp.float32)
    return bootstrap(lambda counts: jnp.stack([change @ counts, counts.sum()]), n, key,
                     resamples)


@functools.partial(jax.jit, static_argnames=("metric", "resamples"))
def _paired_areas(key, labels_a, scores_a, labels_b, scores_b, metric, resamples):
    area = roc_auc if metric == "roc_auc" else average_precision
    orders = [jax.vmap(curve_order)(s, t) for s, t in ((scores_a, labels_a), (scores_b, labels_b))]
    n = scores_a.shape[1]

    def macro(counts):
        return jnp.stack([jnp.nanmean(jax.vmap(lambda o: area(reweighted_curve(o, counts)))(order))
                          for order in orders])

    values = macro(jnp.ones(n, jnp.float32))
    return values, bootstrap(lambda counts: macro(counts) @ jnp.array([-1.0, 1.0]), n, key,
                             resamples)
