"""Metrics with scikit-learn's names and results, compiled with JAX; streaming versions.

Every function is jit- and vmap-compatible (``jax.vmap(average_precision_score)`` scores a
population of models in one call) and checks its inputs when they are concrete arrays.
"""

from . import streaming
from .calibration import ReliabilityTable, expected_calibration_error, reliability_table
from .classification import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    fbeta_score,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
)
from .edit_rate import char_error_rate, edit_distances, word_error_rate
from .probability import log_loss, top_k_accuracy_score
from .ranking import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve
from .selective import accuracy_at_coverage, coverage_at_accuracy, risk_coverage_curve
from .streaming import Metric
from .undefined import UndefinedMetricWarning

__all__ = [
    "Metric",
    "ReliabilityTable",
    "UndefinedMetricWarning",
    "accuracy_at_coverage",
    "accuracy_score",
    "average_precision_score",
    "char_error_rate",
    "confusion_matrix",
    "coverage_at_accuracy",
    "edit_distances",
    "expected_calibration_error",
    "f1_score",
    "fbeta_score",
    "log_loss",
    "precision_recall_curve",
    "precision_recall_fscore_support",
    "precision_score",
    "recall_score",
    "reliability_table",
    "risk_coverage_curve",
    "roc_auc_score",
    "roc_curve",
    "streaming",
    "top_k_accuracy_score",
    "word_error_rate",
]
