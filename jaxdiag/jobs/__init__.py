"""Floor 7: the jobs (``jaxdiag run``, ``jaxdiag train``): short compositions of library calls
over a run folder. ``jaxdiag sweep``'s job is ``jaxdiag.search.run_sweep``."""

from jaxdiag.jobs.run import run_main_job
from jaxdiag.jobs.train import run_train_job

__all__ = ["run_main_job", "run_train_job"]
