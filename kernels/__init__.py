"""Pure, jit- and vmap-compatible array kernels; installed as ``jaxdiag.kernels``.

Nothing here imports jaxdiag: kernels take arrays and static sizes and return arrays.
"""

from .confusion import confusion_matrix, label_counts
from .curves import (
    BinaryCurve,
    CurveOrder,
    at_group_end,
    average_precision,
    binned_curve,
    curve_order,
    exact_curve,
    reweighted_curve,
    roc_auc,
    score_histogram,
)
from .edit_distance import levenshtein
from .exact_areas import exact_average_precision, exact_roc_auc
from .finite_difference import central_differences
from .minibatch import class_balanced_indices, class_layout, minibatch_indices
from .prefix_sum import prefix_sum
from .sorted_counts import SortedCounts, descending_key, score_from_key, sorted_counts

__all__ = [
    "BinaryCurve",
    "CurveOrder",
    "SortedCounts",
    "at_group_end",
    "average_precision",
    "binned_curve",
    "central_differences",
    "class_balanced_indices",
    "class_layout",
    "confusion_matrix",
    "curve_order",
    "descending_key",
    "exact_average_precision",
    "exact_curve",
    "exact_roc_auc",
    "label_counts",
    "levenshtein",
    "minibatch_indices",
    "prefix_sum",
    "reweighted_curve",
    "roc_auc",
    "score_from_key",
    "score_histogram",
    "sorted_counts",
]
