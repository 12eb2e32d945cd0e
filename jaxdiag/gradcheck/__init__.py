"""Floor 2: vectorized finite-difference gradient check with a per-leaf report."""

from jaxdiag.gradcheck.check import gradcheck
from jaxdiag.gradcheck.report import Coordinate, GradcheckReport, LeafCheck

__all__ = ["Coordinate", "GradcheckReport", "LeafCheck", "gradcheck"]
