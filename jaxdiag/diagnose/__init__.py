"""Floor 5: diagnoses of what the error is made of and what to do next."""

from jaxdiag.diagnose.bias_variance import ACTIONS, GAPS, BiasVariance, bias_variance

__all__ = ["ACTIONS", "GAPS", "BiasVariance", "bias_variance"]
