"""Selective prediction: answer only when confident, and measure risk against coverage.

Examples are ranked by confidence (the top score); a threshold keeps the most confident ones.
Ties are kept or dropped together, so coverages are those reachable by a threshold.

References: Geifman & El-Yaniv, "Selective classification for deep neural networks" (2017);
Goodfellow et al., Deep Learning, 11.1 (Street View: 98% accuracy at 95% coverage).
"""

import jax
import jax.numpy as jnp
import numpy as np

from jaxdiag.kernels import at_group_end, exact_curve

from ._inputs import is_concrete, scored_inputs
from .probability import class_index


def correct_and_confidence(y_true, y_score, sample_weight, labels):
    y_true, y_score, weight = scored_inputs(y_true, y_score, sample_weight)
    if y_score.ndim == 1:
        y_score = jnp.stack([1 - y_score, y_score], axis=1)
    index = class_index(y_true, labels, y_score.shape[1])
    correct = jnp.argmax(y_score, axis=1) == index
    return correct, y_score.max(axis=1), weight


def _selective_curve(y_true, y_score, sample_weight, labels):
    """(threshold, kept weight, right weight, is_threshold, total weight), per example."""
    correct, confidence, weight = correct_and_confidence(y_true, y_score, sample_weight, labels)
    curve = exact_curve(confidence, correct, weight)
    dtype = jnp.result_type(float)
    right = at_group_end(curve, curve.tps).astype(dtype)
    wrong = at_group_end(curve, curve.fps).astype(dtype)
    kept = right + wrong
    return curve.threshold, kept, right, curve.is_threshold, kept[-1]


def risk_coverage_curve(y_true, y_score, *, sample_weight=None, labels=None):
    """Error rate among the examples kept at each confidence threshold, against their share.

    Args:
      y_true: labels, shape (n,).
      y_score: class scores or probabilities, shape (n, C) (or (n,) positive-class
        probabilities); the prediction is the arg max, the confidence the max.
      sample_weight: optional float array, shape (n,).
      labels: the label of each score column (static under jit); default sorted present labels.

    Returns:
      ``(coverage, risk, thresholds)``, thresholds decreasing so coverage increases to 1.
      Concrete inputs give one point per distinct confidence; under jit one per example
      (points inside a tie repeat their threshold's point).
    """
    threshold, kept, right, is_threshold, total = _selective_curve(y_true, y_score,
                                                                   sample_weight, labels)
    coverage = kept / total
    risk = 1 - right / jnp.where(kept > 0, kept, 1)
    if is_concrete(threshold):
        keep = np.asarray(is_threshold & (kept > 0))
        return (jnp.asarray(np.asarray(coverage)[keep]), jnp.asarray(np.asarray(risk)[keep]),
                jnp.asarray(np.asarray(threshold)[keep]))
    return coverage, risk, threshold


def _check_fraction(name: str, value: float) -> None:
    if not 0 < value <= 1:
        raise ValueError(f"{name}: expected a fraction in (0, 1], found {value}")


def accuracy_at_coverage(y_true, y_score, *, coverage: float = 0.95, sample_weight=None,
                         labels=None) -> jax.Array:
    """Accuracy on the most confident examples that make up at least ``coverage`` of the data.

    Args: as ``risk_coverage_curve``; ``coverage`` in (0, 1].

    Returns:
      0-d float array: the accuracy at the highest threshold whose coverage is >= ``coverage``.
    """
    _check_fraction("coverage", coverage)
    _, kept, right, is_threshold, total = _selective_curve(y_true, y_score, sample_weight,
                                                           labels)
    enough = is_threshold & (kept >= coverage * total)
    first = jnp.argmax(enough)
    return right[first] / kept[first]


def coverage_at_accuracy(y_true, y_score, *, accuracy: float = 0.98, sample_weight=None,
                         labels=None) -> jax.Array:
    """The largest share of the data that can be answered with at least ``accuracy``.

    Args: as ``risk_coverage_curve``; ``accuracy`` in (0, 1].

    Returns:
      0-d float array: the highest coverage of a threshold whose selective accuracy is
      >= ``accuracy``; 0.0 if none reaches it.
    """
    _check_fraction("accuracy", accuracy)
    _, kept, right, is_threshold, total = _selective_curve(y_true, y_score, sample_weight,
                                                           labels)
    good = is_threshold & (kept > 0) & (right >= accuracy * kept)
    return jnp.max(jnp.where(good, kept / total, 0.0))


__all__ = ["accuracy_at_coverage", "coverage_at_accuracy", "risk_coverage_curve"]
