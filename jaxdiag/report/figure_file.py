"""Saving a Matplotlib figure as a PNG for the report (Agg canvas; no pyplot, no global state)."""

from pathlib import Path

from matplotlib.figure import Figure

DPI = 110


def save_figure(figure: Figure, path: str | Path) -> Path:
    """Writes ``figure`` to ``path`` as a PNG at the report's resolution; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=DPI)
    return path
