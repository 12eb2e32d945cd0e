"""Binary classification curves: exact (one sort) and binned (one histogram pass).

Both produce a ``BinaryCurve``: cumulative true- and false-positive weights at thresholds in
decreasing order. The exact curve has one point per example and marks the last example of each
group of tied scores, which is where scikit-learn puts its thresholds; the binned curve has one
point per bin. Areas are computed from either the same way.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from .prefix_sum import prefix_sum
from .sorted_counts import score_from_key, sorted_counts


class BinaryCurve(NamedTuple):
    """Cumulative counts at decreasing thresholds.

    Attributes:
      threshold: float array, shape (m,), non-increasing.
      tps: array, shape (m,): total weight of positives with score >= threshold.
      fps: array, shape (m,): total weight of negatives with score >= threshold.
      tps_before: array, shape (m,): ``tps`` at the previous distinct threshold (0 at the first).
      fps_before: array, shape (m,): the same for ``fps``.
      is_threshold: bool array, shape (m,): True where the point is a distinct threshold (the
        last of a group of tied scores); the other points repeat a partial group and are ignored.
    """

    threshold: jax.Array
    tps: jax.Array
    fps: jax.Array
    tps_before: jax.Array
    fps_before: jax.Array
    is_threshold: jax.Array


def exact_curve(
    y_score: jax.Array, y_true: jax.Array, sample_weight: jax.Array | None = None
) -> BinaryCurve:
    """The exact curve of one binary problem, with scikit-learn's tie handling.

    Args:
      y_score: float array, shape (n,).
      y_true: bool or 0/1 array, shape (n,): True for the positive class.
      sample_weight: optional non-negative float array, shape (n,).

    Returns:
      ``BinaryCurve`` with m = n points; counts are int32 without weights, float with them.
    """
    counts = sorted_counts(y_score, y_true.astype(jnp.uint8), sample_weight)
    is_threshold = jnp.append(counts.key[1:] != counts.key[:-1], True)
    return BinaryCurve(score_from_key(counts.key, y_score.dtype), counts.tps, counts.fps,
                       counts.tps_before, counts.fps_before, is_threshold)


class CurveOrder(NamedTuple):
    """The order of one binary problem's scores, fixed across re-weightings of its examples.

    Attributes:
      order: int32 array, shape (n,): the indices that sort the scores in decreasing order.
      positive: bool array, shape (n,): the labels in that order.
      threshold: float array, shape (n,): the scores in that order.
      is_threshold: bool array, shape (n,): True at the last point of each group of ties.
      previous: int32 array, shape (n,): the last point of the previous group; -1 in the first.
    """

    order: jax.Array
    positive: jax.Array
    threshold: jax.Array
    is_threshold: jax.Array
    previous: jax.Array


def curve_order(y_score: jax.Array, y_true: jax.Array) -> CurveOrder:
    """Sorts one binary problem once, so that ``reweighted_curve`` needs no sort.

    Args:
      y_score: float array, shape (n,), no NaN.
      y_true: bool or 0/1 array, shape (n,).
    """
    order = jnp.argsort(-y_score, stable=True).astype(jnp.int32)
    threshold = y_score[order]
    is_threshold = jnp.append(threshold[1:] != threshold[:-1], True)
    ends = jnp.where(is_threshold, jnp.arange(threshold.shape[0], dtype=jnp.int32), -1)
    previous = jnp.concatenate([jnp.full(1, -1, jnp.int32), lax.cummax(ends)[:-1]])
    return CurveOrder(order, y_true[order].astype(bool), threshold, is_threshold, previous)


def reweighted_curve(order: CurveOrder, weight: jax.Array) -> BinaryCurve:
    """The exact curve of the examples of ``order`` weighted by ``weight``, float (n,) in the
    examples' own order (bootstrap counts: how often each example was drawn); points whose
    weight is 0 contribute nothing, as if absent. No sort: one gather and two running sums."""
    weight = weight[order.order]
    tps = prefix_sum(jnp.where(order.positive, weight, 0))
    fps = prefix_sum(jnp.where(order.positive, 0, weight))
    first = order.previous < 0
    before = jnp.maximum(order.previous, 0)
    return BinaryCurve(order.threshold, tps, fps, jnp.where(first, 0, tps[before]),
                       jnp.where(first, 0, fps[before]), order.is_threshold)


def score_histogram(
    y_score: jax.Array,
    y_true: jax.Array,
    num_thresholds: int,
    sample_weight: jax.Array | None = None,
) -> jax.Array:
    """Per-class histogram of scores in [0, 1] over ``num_thresholds`` equal bins.

    Bin k holds scores in [k / (T - 1), (k + 1) / (T - 1)), the last bin the score 1.0; scores
    outside [0, 1] are clipped. Histograms of disjoint batches add, so they stream and merge.

    Args:
      y_score: float array, shape (n,).
      y_true: bool or 0/1 array, shape (n,).
      num_thresholds: static number of thresholds T >= 2.
      sample_weight: optional float array, shape (n,).

    Returns:
      array, shape (2, T): row 0 negatives, row 1 positives; int32 without weights.
    """
    top = num_thresholds - 1
    bins = jnp.clip(y_score * top, 0, top).astype(jnp.int32)
    index = bins + num_thresholds * y_true.astype(jnp.int32)
    if sample_weight is None:
        counts = jnp.zeros(2 * num_thresholds, jnp.int32).at[index].add(1, mode="promise_in_bounds")
    else:
        counts = jnp.zeros(2 * num_thresholds, sample_weight.dtype)
        counts = counts.at[index].add(sample_weight, mode="promise_in_bounds")
    return counts.reshape(2, num_thresholds)


def binned_curve(histogram: jax.Array) -> BinaryCurve:
    """The curve at the thresholds k / (T - 1), from ``score_histogram`` counts, shape (2, T)."""
    num_thresholds = histogram.shape[-1]
    threshold = jnp.linspace(1.0, 0.0, num_thresholds)
    cumulative = jnp.cumsum(histogram[:, ::-1], axis=-1)
    before = jnp.pad(cumulative[:, :-1], ((0, 0), (1, 0)))
    return BinaryCurve(threshold, cumulative[1], cumulative[0], before[1], before[0],
                       jnp.ones(num_thresholds, bool))


def _as_float(counts: jax.Array) -> jax.Array:
    return counts.astype(jnp.promote_types(counts.dtype, jnp.result_type(float)))


def _sum(x: jax.Array, block: int = 4096) -> jax.Array:
    """Two-level sum: float32 rounding error grows with sqrt of blocks, not with n."""
    pad = -x.shape[0] % block
    return jnp.pad(x, (0, pad)).reshape(-1, block).sum(axis=1).sum()


def average_precision(curve: BinaryCurve) -> jax.Array:
    """Step-wise area under the precision-recall curve, sum of (R_k - R_{k-1}) P_k.

    Returns 0.0 when there are no positives (as scikit-learn does).
    """
    tps, fps = _as_float(curve.tps), _as_float(curve.fps)
    predicted = tps + fps
    precision = tps / jnp.where(predicted > 0, predicted, 1)
    gained = tps - _as_float(curve.tps_before)
    positives = tps[-1]
    area = _sum(jnp.where(curve.is_threshold, gained * precision, 0))
    return jnp.where(positives > 0, area / jnp.where(positives > 0, positives, 1), 0.0)


def roc_auc(curve: BinaryCurve) -> jax.Array:
    """Trapezoidal area under the ROC curve; NaN when only one class has weight."""
    tps, fps = _as_float(curve.tps), _as_float(curve.fps)
    width = fps - _as_float(curve.fps_before)
    height = tps + _as_float(curve.tps_before)
    positives, negatives = tps[-1], fps[-1]
    area = _sum(jnp.where(curve.is_threshold, width * height, 0)) / 2
    defined = (positives > 0) & (negatives > 0)
    return jnp.where(defined, area / jnp.where(defined, positives * negatives, 1), jnp.nan)


def at_group_end(curve: BinaryCurve, values: jax.Array) -> jax.Array:
    """Each point's ``values`` (non-decreasing) at the last point of its group of tied scores.

    Turns the one-point-per-example curve into a plottable one: points inside a tie repeat the
    point of their threshold.
    """
    big = jnp.asarray(jnp.inf if jnp.issubdtype(values.dtype, jnp.floating)
                      else jnp.iinfo(values.dtype).max, values.dtype)
    return lax.cummin(jnp.where(curve.is_threshold, values, big), reverse=True)
