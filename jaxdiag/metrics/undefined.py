"""The warning of a metric that its inputs leave undefined, as scikit-learn gives it."""

import sys
import warnings
from pathlib import Path

_PACKAGE = Path(__file__).parent


class UndefinedMetricWarning(UserWarning):
    """A metric is undefined for these inputs (a 0/0 ratio, one class present) and the
    documented value (``zero_division``, 0 or NaN) is returned instead: jaxdiag's namesake of
    ``sklearn.exceptions.UndefinedMetricWarning``, given in the same cases. Given only when
    the inputs are concrete: under ``jit`` or ``vmap`` the values are not known, and the same
    value is returned without a warning."""


def warn_undefined(message: str, category: type[Warning] = UndefinedMetricWarning) -> None:
    """Warns at the first caller outside ``jaxdiag.metrics`` (the user's line)."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and Path(frame.f_code.co_filename).parent == _PACKAGE:
        level, frame = level + 1, frame.f_back
    warnings.warn(message, category, stacklevel=level)


__all__ = ["UndefinedMetricWarning", "warn_undefined"]
