"""Figures drawn by the worker processes are the figures drawn here, and failures surface."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from jaxdiag.report.figure_file import FigureWriter, save_figure


def _figure(seed: int) -> Figure:
    figure = Figure(figsize=(4, 3), layout="constrained")
    ax = figure.subplots()
    ax.hist(np.random.default_rng(seed).normal(size=500), 30)
    ax.set_title(f"seed {seed}")
    return figure


def test_workers_write_the_same_pngs_as_this_process(tmp_path):
    with FigureWriter(workers=2) as writer:
        paths = [writer.save(_figure(seed), tmp_path / "pool" / f"{seed}.png")
                 for seed in range(3)]
    for seed, path in enumerate(paths):
        here = save_figure(_figure(seed), tmp_path / "here" / f"{seed}.png")
        assert path.read_bytes() == here.read_bytes()


def test_a_figure_that_cannot_be_written_raises_when_the_block_ends(tmp_path):
    (tmp_path / "taken.png").mkdir()  # the worker's savefig fails on a folder
    with pytest.raises(IsADirectoryError), FigureWriter(workers=2) as writer:
        writer.save(_figure(0), tmp_path / "ok.png")
        writer.save(_figure(1), tmp_path / "taken.png")
    assert (tmp_path / "ok.png").stat().st_size > 0
