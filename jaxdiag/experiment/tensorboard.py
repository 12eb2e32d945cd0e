"""The TensorBoard writer of every jaxdiag loop."""

import time
from pathlib import Path

from tensorboardX import SummaryWriter


def summary_writer(logdir: str | Path, purge_step: int | None = None) -> SummaryWriter:
    """A tensorboardX ``SummaryWriter`` for ``logdir`` whose queue never blocks.

    tensorboardX writes events from a background thread fed by a bounded queue; when that
    thread dies (a full disk, a file-size limit), ``add_scalar`` waits forever on the full
    queue. With an unbounded queue the training goes on, and the failure surfaces as an
    ``OSError`` in the caller's thread at ``flush`` or ``close``.

    The event file's name ends in the nanosecond clock: tensorboardX names it by the second
    only, so a run resumed within the second of its kill overwrote the killed run's events
    (names still sort in the order they were written).
    """
    return SummaryWriter(str(logdir), purge_step=purge_step, max_queue=0,
                         filename_suffix=f".{time.time_ns()}")
