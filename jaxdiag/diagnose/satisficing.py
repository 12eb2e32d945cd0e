"""Satisficing and optimizing metrics (Ng): maximize one metric subject to thresholds on others.

"Accuracy as high as possible, subject to a running time of at most 100 ms": one optimizing
metric picks the winner among the candidates that meet every satisficing constraint.
"""

import operator
from collections.abc import Mapping, Sequence

_OPERATORS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}


def choose_model(
    candidates: Sequence[Mapping[str, float]],
    optimizing: str,
    constraints: Mapping[str, tuple[str, float]] | None = None,
    *,
    maximize: bool = True,
) -> dict:
    """The best candidate by ``optimizing`` among those meeting every constraint.

    Args:
      candidates: one mapping of metric name to value per model (a "name" key may label it).
      optimizing: the metric to maximize (or minimize with ``maximize=False``).
      constraints: {metric: (operator, threshold)} with operator one of <=, >=, <, >, e.g.
        {"latency_ms": ("<=", 100), "false_positive_rate": ("<=", 0.01)}.

    Returns:
      {"best": index of the winner or None when no candidate is feasible, "feasible": indices
      meeting every constraint, "violations": {index: [the constraints it breaks]}}.

    Raises:
      ValueError: an unknown operator, or a candidate without a metric that is used.
    """
    constraints = constraints or {}
    for metric, (op, _) in constraints.items():
        if op not in _OPERATORS:
            raise ValueError(f"constraints[{metric!r}]: expected an operator among "
                             f"{sorted(_OPERATORS)}, found {op!r}.")
    needed = [optimizing, *constraints]
    for i, candidate in enumerate(candidates):
        missing = [m for m in needed if m not in candidate]
        if missing:
            raise ValueError(f"candidates[{i}]: expected the metric {missing[0]!r}, found keys "
                             f"{sorted(candidate)}.")
    violations = {
        i: [f"{m} {op} {limit} (found {c[m]})" for m, (op, limit) in constraints.items()
            if not _OPERATORS[op](c[m], limit)]
        for i, c in enumerate(candidates)}
    feasible = [i for i, broken in violations.items() if not broken]
    sign = 1 if maximize else -1
    best = max(feasible, key=lambda i: sign * candidates[i][optimizing]) if feasible else None
    return {"best": best, "feasible": feasible,
            "violations": {i: v for i, v in violations.items() if v}}
