"""``render_report``: a run folder of ``jaxdiag run`` into ``report.html`` and ``report.json``."""

import json
import os
from pathlib import Path

from jaxdiag.experiment.run_folder import (
    MARKER_FILE,
    open_run_folder,
    read_marker,
    write_atomic,
)
from jaxdiag.report.figure_file import FigureWriter
from jaxdiag.report.html_page import page_html
from jaxdiag.report.run_report import (
    REPORT_FILE,
    load_predictions,
    load_run_report,
    load_trials,
)
from jaxdiag.report.sections import RunData, build_sections

HTML_FILE = "report.html"
FIGURES_DIR = "figures"


def render_report(run_dir: str | Path) -> Path:
    """Renders the run in ``run_dir``, finished or killed, and returns the HTML file's path.

    Writes ``report.html`` (self-contained: every figure embedded), the figures as PNGs in
    ``figures/``, and ``report.json`` with a "report" entry: {"html", "sections": {id:
    {"title", "status", "figures", ...the numbers the section shows}}}. Sections the run did
    not reach (a killed run) or switched off are listed with that status. Rendering twice
    gives the same files.

    Raises:
      ValueError: ``run_dir`` is not a run folder of ``jaxdiag run`` (see
        ``load_run_report``).
    """
    run_dir = Path(os.path.abspath(run_dir))
    if read_marker(run_dir) is None:
        load_run_report(run_dir)  # says what the folder holds instead
        raise ValueError(f"run_dir: expected a run folder that jaxdiag made (with its "
                         f"{MARKER_FILE} marker), found none in {str(run_dir)!r}.")
    with open_run_folder(run_dir.parent, run_dir.name, "run"):
        report = load_run_report(run_dir)
        report.pop("report", None)
        search = report.get("search")
        with FigureWriter() as figures:  # every figure written when the block ends
            run = RunData(report, load_predictions(run_dir),
                          load_trials(search["run_dir"]) if search else [],
                          run_dir / FIGURES_DIR, figures)
            built = build_sections(run)
        config = report["config"]
        training = report["training"]
        state = ("finished" if report.get("complete") else
                 f"stopped at step {training['steps_done']} of {config['train']['steps']}")
        target = report["data"].get("target", config["data"]["target"])
        subtitle = (f"{config['model']['name']} on {config['data']['source']} "
                    f"(dev/test domain: {target}); {state}; run folder "
                    f"{run_dir.absolute()}")
        page = page_html(f"jaxdiag report: {config['name']}", subtitle, [s for s, _ in built])
        write_atomic(run_dir / HTML_FILE, page)
        report["report"] = {"html": HTML_FILE, "sections": {
            s.id: {"title": s.title, "status": s.status,
                   "figures": [str(f.relative_to(run_dir)) if f.is_relative_to(run_dir) else str(f)
                               for f in s.figures], **summary}
            for s, summary in built}}
        write_atomic(run_dir / REPORT_FILE, json.dumps(report, indent=1))
        return run_dir / HTML_FILE
