"""Floor 6: figures and the report of a run."""

from jaxdiag.report.image_grid import save_image_grid

__all__ = ["save_image_grid"]
