"""Exact average precision and ROC AUC straight from ranks, without building the curve.

After one sort by (score descending, label), each positive example's share of the average
precision is the precision at the end of its group of tied scores, and each negative's share of
the ROC area is the number of positives ranked above it plus half of those tied with it. Ties
are rare in practice, so the areas are sums over every example at its own position plus a
correction over the few examples that are not the last of their group.

On the CPU backend this runs on the host through ``jax.pure_callback`` and hands back one number
per row, where ``exact_curve`` would hand back five arrays the size of the input (their copy
into XLA buffers costs more than the sort): float32 keys and 0/1 labels are packed into one
uint64 and sorted once. Other backends build the exact curve with ``lax.sort`` (a radix sort on
GPU). Both paths are jit- and vmap-compatible.
"""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .curves import average_precision as curve_average_precision
from .curves import exact_curve
from .curves import roc_auc as curve_roc_auc
from .host_blocks import as_rows, for_row_blocks
from .sorted_counts import descending_key, sort_packed


class _Ranked:
    """Rows of (rows, n) examples sorted by (key ascending, label), ties keeping negatives first.

    ``positive`` and ``negative`` are each example's weight as a positive or a negative, ``tps``
    the positive weight up to and including each example, ``inverse_predicted`` one over the
    total weight up to it (0 where that is 0; shape (n,) without weights); ``positives`` and
    ``negatives`` each row's totals (rows,); ``inner`` flat indices of the examples that are not
    the last of their group of ties, and ``end`` the flat index of the last of each one's group.
    """

    def __init__(self, key: np.ndarray, label: np.ndarray, weight: np.ndarray | None):
        rows, n = key.shape
        if weight is None and key.dtype.itemsize <= 4:
            packed = sort_packed(key, label)
            self.positive = packed.astype(np.uint8) & 1
            self.negative = 1 - self.positive
            self.tps = np.cumsum(self.positive, axis=-1, dtype=np.int32)
            self.inverse_predicted = 1 / np.arange(1, n + 1, dtype=np.float64)
            self.positives = self.tps[:, -1].astype(np.float64)
            self.negatives = n - self.positives
            tied = np.bitwise_xor(packed[:, 1:], packed[:, :-1]) <= 1
        else:
            order = np.lexsort((label, key), axis=-1)
            key = np.take_along_axis(key, order, axis=-1)
            label = np.take_along_axis(label, order, axis=-1).astype(np.float64)
            weight = (np.ones((rows, n)) if weight is None
                      else np.take_along_axis(weight, order, axis=-1).astype(np.float64))
            self.positive = weight * label
            self.negative = weight - self.positive
            self.tps = np.cumsum(self.positive, axis=-1)
            predicted = self.tps + np.cumsum(self.negative, axis=-1)
            self.inverse_predicted = np.divide(1, predicted, out=np.zeros_like(predicted),
                                               where=predicted > 0)
            self.positives, self.negatives = self.tps[:, -1], predicted[:, -1] - self.tps[:, -1]
            tied = key[:, 1:] == key[:, :-1]
        self.rows, self.n = rows, n
        self.inner = np.flatnonzero(np.pad(tied, ((0, 0), (0, 1))))
        run_last = np.append(self.inner[1:] != self.inner[:-1] + 1, True)
        ends = np.where(run_last, self.inner + 1, np.iinfo(np.int64).max)
        self.end = np.minimum.accumulate(ends[::-1])[::-1]

    def at(self, values: np.ndarray, flat_index: np.ndarray) -> np.ndarray:
        """``values`` (rows, n) at flat indices; (n,) values are the same in every row."""
        return (values[flat_index % self.n] if values.ndim == 1
                else values.reshape(-1)[flat_index])

    def precision(self, flat_index: np.ndarray) -> np.ndarray:
        return self.at(self.tps, flat_index) * self.at(self.inverse_predicted, flat_index)

    def row_sums(self, inner_terms: np.ndarray, *factors: np.ndarray) -> np.ndarray:
        """Per-row sum of the product of ``factors`` (each (rows, n) or (n,)), float64, plus
        each row's ``inner_terms`` (one per ``inner`` index)."""
        subscripts = ",".join("ij" if f.ndim == 2 else "j" for f in factors) + "->i"
        whole = np.einsum(subscripts, *factors, dtype=np.float64, casting="unsafe")
        return whole + np.bincount(self.inner // self.n, inner_terms, minlength=self.rows)


def _average_precision(ranked: _Ranked) -> np.ndarray:
    inner_gain = ranked.precision(ranked.end) - ranked.precision(ranked.inner)
    total = ranked.row_sums(ranked.at(ranked.positive, ranked.inner) * inner_gain,
                            ranked.positive, ranked.tps, ranked.inverse_predicted)
    positives = ranked.positives
    return np.where(positives > 0, total / np.where(positives > 0, positives, 1), 0.0)


def _roc_auc(ranked: _Ranked) -> np.ndarray:
    tied_above = ranked.at(ranked.tps, ranked.end) - ranked.at(ranked.tps, ranked.inner)
    total = ranked.row_sums(ranked.at(ranked.negative, ranked.inner) * tied_above / 2,
                            ranked.negative, ranked.tps)
    pairs = ranked.positives * ranked.negatives
    return np.where(pairs > 0, total / np.where(pairs > 0, pairs, 1), np.nan)


_AREAS = {"average_precision": _average_precision, "roc_auc": _roc_auc}


def _host_areas(kind: str, dtype, key, label, *weight):
    """``_AREAS[kind]`` of every row of any leading batch shape, in blocks over the cores."""
    batch, rows = as_rows(key, label, *weight)
    count, n = rows[0].shape
    out = np.empty(count, dtype)

    def work(block: slice) -> None:
        out[block] = _AREAS[kind](_Ranked(rows[0][block], rows[1][block],
                                          rows[2][block] if weight else None))

    for_row_blocks(count, n, work)
    return out.reshape(batch)


def _dtype(*weight: jax.Array):
    """The areas' float dtype: the default float, or the weights' if wider."""
    return jnp.promote_types(weight[0].dtype if weight else float, jnp.result_type(float))


def _host_area(kind: str, score: jax.Array, label: jax.Array, *weight: jax.Array) -> jax.Array:
    dtype = _dtype(*weight)
    return jax.pure_callback(partial(_host_areas, kind, np.dtype(dtype)),
                             jax.ShapeDtypeStruct((), dtype), descending_key(score), label,
                             *weight, vmap_method="broadcast_all")


def _device_area(kind: str, score: jax.Array, label: jax.Array, *weight: jax.Array) -> jax.Array:
    area = curve_average_precision if kind == "average_precision" else curve_roc_auc
    return area(exact_curve(score, label, *weight)).astype(_dtype(*weight))


def _exact_area(kind: str, score: jax.Array, label: jax.Array,
                weight: jax.Array | None) -> jax.Array:
    operands = (score, label.astype(jnp.uint8)) + (() if weight is None else (weight,))
    return lax.platform_dependent(*operands, cpu=partial(_host_area, kind),
                                  default=partial(_device_area, kind))


def exact_average_precision(
    score: jax.Array, label: jax.Array, weight: jax.Array | None = None
) -> jax.Array:
    """Average precision of the exact curve, sum_k (R_k - R_{k-1}) P_k, with sklearn's ties.

    Args:
      score: float array, shape (n,).
      label: bool or 0/1 array, shape (n,): True for the positive class.
      weight: optional non-negative float array, shape (n,).

    Returns:
      0-d float array (float64 under x64); 0.0 when no positive has weight.
    """
    return _exact_area("average_precision", score, label, weight)


def exact_roc_auc(
    score: jax.Array, label: jax.Array, weight: jax.Array | None = None
) -> jax.Array:
    """Trapezoidal area under the exact ROC curve; NaN when only one class has weight.

    Args and returns as ``exact_average_precision``.
    """
    return _exact_area("roc_auc", score, label, weight)
