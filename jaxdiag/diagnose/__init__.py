"""Floor 5: diagnoses of what the error is made of and what to do next."""

from jaxdiag.diagnose.bias_variance import ACTIONS, GAPS, BiasVariance, bias_variance
from jaxdiag.diagnose.loss_curve import (
    PATHOLOGIES,
    PATHOLOGY_CAUSES,
    CurveFinding,
    loss_curve_pathologies,
)
from jaxdiag.diagnose.overfit_batch import OverfitResult, overfit_one_batch
from jaxdiag.diagnose.sanity import (
    SanityCheck,
    initial_loss_check,
    input_scale_check,
    label_check,
)

__all__ = [
    "ACTIONS",
    "GAPS",
    "PATHOLOGIES",
    "PATHOLOGY_CAUSES",
    "BiasVariance",
    "CurveFinding",
    "OverfitResult",
    "SanityCheck",
    "bias_variance",
    "initial_loss_check",
    "input_scale_check",
    "label_check",
    "loss_curve_pathologies",
    "overfit_one_batch",
]
