"""Floor 5: diagnoses of what the error is made of and what to do next."""

from jaxdiag.diagnose.bias_variance import ACTIONS, GAPS, BiasVariance, bias_variance
from jaxdiag.diagnose.compare_models import McNemar, ModelComparison, compare_models, mcnemar
from jaxdiag.diagnose.error_analysis import (
    Mistakes,
    costly_confusions,
    error_categories,
    worst_mistakes,
)
from jaxdiag.diagnose.intervals import (
    ErrorIntervals,
    dev_set_resolution,
    error_intervals,
    wilson_interval,
)
from jaxdiag.diagnose.label_errors import (
    LabelErrors,
    cross_validated_probabilities,
    find_label_errors,
)
from jaxdiag.diagnose.label_triage import LabelTriage, plant_label_flips, triage_label_errors
from jaxdiag.diagnose.learning_curve import LearningCurve, PowerLaw, fit_power_law, learning_curve
from jaxdiag.diagnose.learning_rate_range import LearningRateRange, learning_rate_range
from jaxdiag.diagnose.loss_curve import (
    PATHOLOGIES,
    PATHOLOGY_CAUSES,
    CurveFinding,
    loss_curve_pathologies,
)
from jaxdiag.diagnose.next_steps import STAGES, NextStep, next_steps
from jaxdiag.diagnose.overfit_batch import OverfitResult, overfit_one_batch
from jaxdiag.diagnose.overfitting import Overfitting, overfitting_from_curves
from jaxdiag.diagnose.remedy_effect import RemedyEffect, remedy_effect
from jaxdiag.diagnose.sanity import (
    SanityCheck,
    chance_level_check,
    initial_loss_check,
    input_scale_check,
    label_check,
)
from jaxdiag.diagnose.satisficing import choose_model

__all__ = [
    "ACTIONS",
    "GAPS",
    "PATHOLOGIES",
    "PATHOLOGY_CAUSES",
    "STAGES",
    "BiasVariance",
    "CurveFinding",
    "ErrorIntervals",
    "LabelErrors",
    "LabelTriage",
    "LearningCurve",
    "LearningRateRange",
    "McNemar",
    "Mistakes",
    "ModelComparison",
    "NextStep",
    "OverfitResult",
    "Overfitting",
    "PowerLaw",
    "RemedyEffect",
    "SanityCheck",
    "bias_variance",
    "chance_level_check",
    "choose_model",
    "compare_models",
    "costly_confusions",
    "cross_validated_probabilities",
    "dev_set_resolution",
    "error_categories",
    "error_intervals",
    "find_label_errors",
    "fit_power_law",
    "initial_loss_check",
    "input_scale_check",
    "label_check",
    "learning_curve",
    "learning_rate_range",
    "loss_curve_pathologies",
    "mcnemar",
    "next_steps",
    "overfit_one_batch",
    "overfitting_from_curves",
    "plant_label_flips",
    "remedy_effect",
    "triage_label_errors",
    "wilson_interval",
    "worst_mistakes",
]
