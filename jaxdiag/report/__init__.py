"""Floor 6: figures and the report of a run (``report.html``, ``report.json``)."""

from jaxdiag.report.image_grid import save_image_grid
from jaxdiag.report.render import FIGURES_DIR, HTML_FILE, render_report
from jaxdiag.report.run_report import (
    PREDICTIONS_FILE,
    REPORT_FILE,
    load_predictions,
    load_run_report,
)

__all__ = [
    "FIGURES_DIR",
    "HTML_FILE",
    "PREDICTIONS_FILE",
    "REPORT_FILE",
    "load_predictions",
    "load_run_report",
    "render_report",
    "save_image_grid",
]
