"""What a run folder of ``jaxdiag run`` holds, read back for the report: finished or killed."""

from pathlib import Path

import numpy as np

from jaxdiag.diagnose import loss_curve_pathologies
from jaxdiag.experiment.checkpoint import Checkpointer
from jaxdiag.experiment.history import History
from jaxdiag.experiment.loop import LATEST
from jaxdiag.experiment.run_folder import CONFIG_FILE, read_json
from jaxdiag.search import TrialStore
from jaxdiag.search.sweep import STORE_FILE

REPORT_FILE = "report.json"
PREDICTIONS_FILE = "predictions.npz"


def load_run_report(run_dir: str | Path) -> dict:
    """The report of the run in ``run_dir``.

    A finished run's ``report.json`` is returned as it is. A killed run's holds only what was
    known before training ("complete": false); the training history so far is added from
    its latest checkpoint, with "training" {"steps_done", "steps_planned", "resumed_from",
    "diverged_at"} and the pathologies of the loss curve so far ("loss_curve").

    Raises:
      ValueError: ``run_dir`` is not a run folder of ``jaxdiag run``, or the run stopped
        before its sanity checks were written; the message says what was found.
    """
    run_dir = Path(run_dir)
    path = run_dir / REPORT_FILE
    if not (run_dir / CONFIG_FILE).is_file():
        raise ValueError(f"run_dir: expected a run folder of `jaxdiag run` holding "
                         f"{CONFIG_FILE}, found {_listing(run_dir)}.")
    if not path.is_file():
        raise ValueError(f"run_dir: {str(run_dir)!r} holds no {REPORT_FILE}: the run stopped "
                         f"before its sanity checks finished, or it is not a `jaxdiag run` "
                         f"folder (found {_listing(run_dir)}); `jaxdiag run --config "
                         f"{run_dir / CONFIG_FILE}` runs it.")
    report = read_json(path, f"`jaxdiag run --config {run_dir / CONFIG_FILE}` writes it anew")
    if report.get("complete"):
        return report
    history, step = History(), 0
    latest = run_dir / "checkpoints" / LATEST
    if latest.is_dir():
        checkpointer = Checkpointer(latest)
        try:
            restored = checkpointer.restore_latest()
            if restored is not None:
                step, history = restored[0], History.from_dict(restored[2])
        finally:
            checkpointer.close()
    report["history"] = history.as_dict()
    report["training"] = {"steps_done": step, "steps_planned": report["config"]["train"]["steps"],
                          "resumed_from": None, "diverged_at": history.diverged_at}
    report["loss_curve"] = []
    if history.train_loss:
        steps, losses = np.array(history.train_loss, np.float64).T
        initial = report["sanity"]["overfit_one_batch"]["initial_loss"]
        report["loss_curve"] = [f.as_dict() for f in
                                loss_curve_pathologies(steps, losses, initial_loss=initial)]
    return report


def load_predictions(run_dir: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{split: (labels (n,), probabilities (n, C))} from ``predictions.npz``; {} when absent.

    Raises:
      ValueError: a damaged ``predictions.npz``, naming it."""
    path = Path(run_dir) / PREDICTIONS_FILE
    if not path.is_file():
        return {}
    try:
        with np.load(path, allow_pickle=False) as saved:
            splits = [k.removesuffix("_y") for k in saved.files if k.endswith("_y")]
            return {s: (saved[f"{s}_y"], saved[f"{s}_probabilities"]) for s in splits}
    except Exception as e:  # zip and format errors of a damaged file
        raise ValueError(f"{path}: damaged ({type(e).__name__}); `jaxdiag run --config "
                         f"{Path(run_dir) / CONFIG_FILE}` writes it anew.") from None


def load_trials(search_dir: str | Path) -> list[dict]:
    """Every trial of the search in ``search_dir`` (the trial store's rows); [] when absent."""
    path = Path(search_dir) / STORE_FILE
    if not path.is_file():
        return []
    store = TrialStore(path)
    try:
        return store.trials()
    finally:
        store.close()


def _listing(run_dir: Path) -> str:
    if not run_dir.is_dir():
        return "no such folder"
    names = sorted(p.name for p in run_dir.iterdir())[:8]
    return ", ".join(names) if names else "an empty folder"
