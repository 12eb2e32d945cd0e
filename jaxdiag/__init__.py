"""jaxdiag: the practical methodology of deep learning as compiled, tested JAX tools.

``import jaxdiag as jd`` gives the subpackages lazily, so that importing jaxdiag (and
``jaxdiag --help``) stays fast; each loads on first use::

    jd.metrics.f1_score(y_true, y_pred, average="macro")
    jd.gradcheck(loss, params, x, y)        # the gradient check itself, see jd.gradcheck.gradcheck
    jd.diagnose.bias_variance(0.01, 0.08, 0.10)
    jd.monitor, jd.search, jd.data, jd.models, jd.experiment, jd.report, jd.kernels
"""

import importlib
from typing import Any

__version__ = "0.1.0"

SUBPACKAGES = ("data", "diagnose", "experiment", "gradcheck", "jobs", "kernels", "metrics",
               "models", "monitor", "report", "search")
__all__ = [*SUBPACKAGES, "__version__"]


def __getattr__(name: str) -> Any:
    if name in SUBPACKAGES:
        return importlib.import_module(f"jaxdiag.{name}")  # the import sets it on the package
    raise AttributeError(f"module 'jaxdiag' has no attribute {name!r}; expected one of "
                         f"{list(SUBPACKAGES)}")


def __dir__() -> list[str]:
    return sorted(__all__)
