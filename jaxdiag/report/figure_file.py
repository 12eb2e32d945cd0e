"""Saving Matplotlib figures as PNGs for the report (Agg canvas; no pyplot, no global state),
in worker processes when there are cores to spare."""

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from matplotlib.figure import Figure

DPI = 110


def save_figure(figure: Figure, path: str | Path) -> Path:
    """Writes ``figure`` to ``path`` as a PNG at the report's resolution; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=DPI)
    return path


class FigureWriter:
    """``save(figure, path)`` like ``save_figure``, drawn in one of ``workers`` processes.

    Matplotlib draws a figure on one core and holds the GIL (0.3-1 s for each of a report's
    figures), so threads do not help; spawned workers draw the pickled figures side by side
    (they import Matplotlib only: ``Figure.savefig`` is what they run). Leaving the ``with``
    block waits for every figure and raises the first failure. One worker, or none to spare,
    draws in this process.
    """

    def __init__(self, workers: int | None = None):
        workers = min(4, os.cpu_count() or 1) if workers is None else workers
        self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(
            "spawn")) if workers > 1 else None
        self._pending: list[Future] = []
        for _ in range(workers if self._pool is not None else 0):  # start them now, while
            self._pending.append(self._pool.submit(int))  # the sections compute their curves

    def __enter__(self) -> "FigureWriter":
        return self

    def save(self, figure: Figure, path: str | Path) -> Path:
        path = Path(path)
        if self._pool is None:
            return save_figure(figure, path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._pending.append(self._pool.submit(Figure.savefig, figure, path, dpi=DPI))
        return path

    def __exit__(self, *exc) -> None:
        if self._pool is None:
            return
        try:
            for future in self._pending:
                future.result()
        finally:
            self._pool.shutdown(cancel_futures=True)
