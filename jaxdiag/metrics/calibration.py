"""Calibration: does a confidence of 0.8 mean right 80% of the time?

Top-label calibration with equal-width confidence bins (lower, upper]; the first bin also holds
a confidence of exactly 0.

References: Guo, Pleiss, Sun & Weinberger, "On calibration of modern neural networks" (2017);
Naeini, Cooper & Hauskrecht, "Obtaining well calibrated probabilities using Bayesian binning"
(2015).
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp

from .selective import correct_and_confidence


class ReliabilityTable(NamedTuple):
    """One row per confidence bin, each field a float array of shape (num_bins,).

    Attributes:
      lower, upper: the bin's edges.
      weight: total weight of the examples in the bin.
      confidence: their mean confidence (NaN for an empty bin).
      accuracy: their accuracy (NaN for an empty bin).
    """

    lower: jax.Array
    upper: jax.Array
    weight: jax.Array
    confidence: jax.Array
    accuracy: jax.Array


def calibration_sums(correct: jax.Array, confidence: jax.Array, num_bins: int,
                     sample_weight: jax.Array | None = None) -> jax.Array:
    """Per-bin sums (weight, weight * confidence, weight * correct), shape (3, num_bins).

    Sums of disjoint batches add, which is how the streaming metric accumulates them.
    """
    dtype = jnp.result_type(float)
    weight = jnp.ones(confidence.shape, dtype) if sample_weight is None else sample_weight
    bins = jnp.clip(jnp.ceil(confidence * num_bins).astype(jnp.int32) - 1, 0, num_bins - 1)
    values = jnp.stack([weight, weight * confidence, weight * correct]).astype(dtype)
    return jnp.zeros((3, num_bins), dtype).at[:, bins].add(values)


def table_from_sums(sums: jax.Array) -> ReliabilityTable:
    """``ReliabilityTable`` from ``calibration_sums``."""
    num_bins = sums.shape[1]
    edges = jnp.linspace(0.0, 1.0, num_bins + 1)
    weight = sums[0]
    safe = jnp.where(weight > 0, weight, jnp.nan)
    return ReliabilityTable(edges[:-1], edges[1:], weight, sums[1] / safe, sums[2] / safe)


def ece_from_sums(sums: jax.Array) -> jax.Array:
    """sum_b (n_b / n) |accuracy_b - confidence_b| from ``calibration_sums``."""
    return jnp.abs(sums[2] - sums[1]).sum() / sums[0].sum()


def _sums(y_true, y_prob, num_bins, sample_weight, labels):
    if not isinstance(num_bins, int) or num_bins < 1:
        raise ValueError(f"num_bins: expected a positive int, found {num_bins!r}")
    correct, confidence, weight = correct_and_confidence(y_true, y_prob, sample_weight, labels)
    return calibration_sums(correct, confidence, num_bins, weight)


def reliability_table(y_true, y_prob, *, num_bins: int = 15, sample_weight=None,
                      labels=None) -> ReliabilityTable:
    """Accuracy against mean confidence per confidence bin (the reliability diagram's data).

    Args:
      y_true: labels, shape (n,).
      y_prob: probabilities, shape (n, C), or (n,) for the positive class of a binary target.
      num_bins: number of equal-width bins over [0, 1].
      sample_weight: optional float array, shape (n,).
      labels: the label of each column (static under jit); default sorted present labels.

    Returns:
      ``ReliabilityTable`` of num_bins rows.
    """
    return table_from_sums(_sums(y_true, y_prob, num_bins, sample_weight, labels))


def expected_calibration_error(y_true, y_prob, *, num_bins: int = 15, sample_weight=None,
                               labels=None) -> jax.Array:
    """Expected calibration error: bin-weighted mean of |accuracy - confidence|.

    Args: as ``reliability_table``.

    Returns:
      0-d float array in [0, 1].
    """
    return ece_from_sums(_sums(y_true, y_prob, num_bins, sample_weight, labels))


__all__ = ["ReliabilityTable", "expected_calibration_error", "reliability_table"]
