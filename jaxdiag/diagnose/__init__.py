"""Floor 5: diagnoses of what the error is made of and what to do next."""

from jaxdiag.diagnose.bias_variance import ACTIONS, GAPS, BiasVariance, bias_variance
from jaxdiag.diagnose.loss_curve import (
    PATHOLOGIES,
    PATHOLOGY_CAUSES,
    CurveFinding,
    loss_curve_pathologies,
)

__all__ = [
    "ACTIONS",
    "GAPS",
    "PATHOLOGIES",
    "PATHOLOGY_CAUSES",
    "BiasVariance",
    "CurveFinding",
    "bias_variance",
    "loss_curve_pathologies",
]
