"""Run a NumPy function over the rows of a batch in blocks spread over the CPU cores.

The host side of the ``jax.pure_callback`` kernels: a vmapped call hands NumPy a batch of rows;
blocks of about a million elements keep the temporaries in cache and reused, which matters more
than the arithmetic (fresh memory costs a page fault per page), and NumPy's sort and scans
release the GIL, so the blocks run in parallel.
"""

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import numpy as np

BLOCK_ELEMENTS = 1 << 20  # elements per host task


def cpu_cores() -> int:
    """The cores this process may run on (all of them where affinity is unknown, as on macOS)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=cpu_cores())


def as_rows(*arrays) -> tuple[tuple[int, ...], list[np.ndarray]]:
    """The leading batch shape of same-shape arrays (..., n), and each as a (rows, n) array."""
    arrays = [np.asarray(a) for a in arrays]
    n = arrays[0].shape[-1]
    return arrays[0].shape[:-1], [a.reshape(-1, n) for a in arrays]


def for_row_blocks(rows: int, row_length: int, work: Callable[[slice], None]) -> None:
    """Call ``work(block)`` for slices covering ``range(rows)``, on all cores; waits for all.

    ``work`` writes its results into preallocated outputs; an exception in any block is raised.
    """
    size = max(1, BLOCK_ELEMENTS // max(row_length, 1))
    list(_pool().map(lambda start: work(slice(start, start + size)), range(0, rows, size)))
