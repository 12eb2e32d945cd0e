"""Floor 2: vectorized finite-difference gradient check with a per-leaf report.

The package is callable: ``jaxdiag.gradcheck(fn, params, *args)`` is
``jaxdiag.gradcheck.gradcheck(fn, params, *args)``.
"""

import sys
import types

from jaxdiag.gradcheck.check import gradcheck
from jaxdiag.gradcheck.report import Coordinate, GradcheckReport, LeafCheck

__all__ = ["Coordinate", "GradcheckReport", "LeafCheck", "gradcheck"]


class _CallableModule(types.ModuleType):
    def __call__(self, *args, **kwargs) -> GradcheckReport:
        return gradcheck(*args, **kwargs)

    __call__.__doc__ = gradcheck.__doc__


sys.modules[__name__].__class__ = _CallableModule
