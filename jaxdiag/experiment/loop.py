"""The training loop of every single run (``jaxdiag run`` and ``jaxdiag train``): compiled
chunks of steps, evaluation, latest and best checkpoints, early stopping, TensorBoard, monitor
statistics, progress, and resume with identical numbers."""

import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np
from tensorboardX import SummaryWriter
from tqdm.auto import tqdm

from jaxdiag.experiment.checkpoint import Checkpointer
from jaxdiag.experiment.config import MINIMIZED_METRICS, TrainConfig
from jaxdiag.experiment.history import History
from jaxdiag.experiment.tensorboard import summary_writer
from jaxdiag.experiment.train_step import TrainState, make_train_steps
from jaxdiag.models import Params, State
from jaxdiag.monitor import monitor_alerts

Batch = tuple[Any, Any]  # (x, y): y an array of labels or a pytree of them ({task: labels})
# In-memory arrays; or a function start_step -> iterable of batches; or an iterator of
# batches (fast-forwarded past the steps already taken when a run resumes).
TrainData = Batch | Callable[[int], Iterable[Batch]] | Iterator[Batch]
StepFn = Callable[[TrainState, Any, Any], tuple[TrainState, jax.Array]]
MonitoredStepFn = Callable[[TrainState, Any, Any], tuple[TrainState, jax.Array, dict]]
LATEST, BEST = "latest", "best"
SELECTED_SPLIT = "dev"


class FitResult(NamedTuple):
    """What ``fit`` returns.

    Attributes:
      state: the TrainState at the last step taken.
      best_params, best_model_state: those of the best evaluation by ``config.select`` (the
        last ones when nothing is selected or no evaluation improved).
      history: the ``History``.
      final: ``evaluate(state)`` at the last step: {split: what ``evaluate`` returned}.
      resumed_from: the checkpoint step training resumed from, or None for a fresh start.
    """

    state: TrainState
    best_params: Params
    best_model_state: State
    history: History
    final: dict[str, Any]
    resumed_from: int | None


def selected_metric(metrics: Mapping[str, Any], select: str) -> tuple[float, bool]:
    """``(value, minimize)`` of ``select`` ("loss", "error", "accuracy" or "<task>.<metric>")
    in one split's metrics (a dict, or an object with ``as_dict``); a missing value (roc_auc
    with one class) reads as NaN, which never counts as an improvement."""
    metrics = _as_record(metrics)
    task, _, metric = select.rpartition(".")
    value = metrics["tasks"][task][metric] if task else metrics[metric]
    return (math.nan if value is None else float(value)), metric in MINIMIZED_METRICS


def fit(
    state: TrainState,
    train_step: StepFn,
    train: TrainData,
    evaluate: Callable[[TrainState], Mapping[str, Any]],
    config: TrainConfig,
    run_dir: Path,
    *,
    key: jax.Array,
    monitored_step: MonitoredStepFn | None = None,
    kinds: dict[str, str] | None = None,
    progress: bool = True,
) -> FitResult:
    """Trains to ``config.steps``, resuming from ``run_dir/checkpoints/latest``.

    Args:
      state: the TrainState to start from (when no checkpoint is there).
      train_step: one optimizer step ``(state, x, y) -> (state, loss)`` (``make_train_step``).
      train: the training data: in-memory arrays ``(x, y)`` (``config.log_every`` steps per
        compiled call, minibatches drawn from ``key`` and the step only), a function
        ``start_step -> iterable of (x, y)``, or an iterator of them (one compiled step each).
      evaluate: ``evaluate(state) -> {split: metrics}``; metrics a dict or an object with
        ``as_dict()`` (``Evaluation``), whose ``"dev"`` entry ``config.select`` reads.
      config: steps, batch size, and how often to log, evaluate and checkpoint.
      run_dir: TensorBoard events go to ``tensorboard/``, checkpoints to ``checkpoints/``.
      key: the minibatch key of in-memory arrays.
      monitored_step: a step that also returns monitor statistics
        (``make_monitored_train_step``); it takes the last step of each chunk, whose
        statistics go to TensorBoard (scalars and histograms) and whose alerts go to
        ``history.monitor``.
      kinds: {layer: activation function} for the monitor's alerts.
      progress: show a progress bar.

    Every ``log_every`` steps the chunk's mean loss goes to the history and TensorBoard; every
    ``eval_every`` steps and at the end ``evaluate`` runs, and when ``config.select`` names a
    metric, the params and model state of the best dev value are kept in ``checkpoints/best``;
    after ``patience`` evaluations without improvement training stops, as it does at the first
    NaN or Inf loss. Every ``checkpoint_every`` steps and at the end the state and history go
    to ``checkpoints/latest`` (a checkpoint that does not restore is set aside and the one
    before it used). A resumed run replays nothing twice: TensorBoard events past the restored
    step are purged and the history continues from the checkpoint.

    Raises:
      ValueError: an iterator of batches that ends before ``config.steps``.
    """
    latest = Checkpointer(run_dir / "checkpoints" / LATEST)
    best = Checkpointer(run_dir / "checkpoints" / BEST, max_to_keep=1) if config.select else None
    history = History()
    best_weights = {"params": state.params, "model_state": state.model_state}
    restored = latest.restore_latest(like=state)
    resumed_from = None if restored is None else restored[0]
    if restored is not None:
        _, state, record = restored
        history = History.from_dict(record)
        best_weights = {"params": state.params, "model_state": state.model_state}
        if best is not None and history.best_step is not None:
            # The newest best checkpoint: the history's, or one that the killed run saved after
            # its latest checkpoint (and which replaced it), which the replay reaches again.
            best_weights = best.restore(best.latest_step(), like=best_weights)[0]
    advance = _advance_fn(train_step, monitored_step, train, config.batch_size, key,
                          int(state.step))
    writer = summary_writer(run_dir / "tensorboard", purge_step=resumed_from)
    step = int(state.step)
    final = None
    try:
        with tqdm(total=config.steps, initial=step, desc="train", unit="step",
                  disable=None if progress else True, dynamic_ncols=True) as bar:
            while step < config.steps and history.stopped is None:
                chunk = min(config.log_every, config.steps - step)
                state, losses, stats = advance(state, chunk)
                step += chunk
                if stats is not None:
                    _record_statistics(stats, kinds or {}, step, history, writer)
                loss = float(np.mean(losses))
                history.train_loss.append([step, loss])
                writer.add_scalar("minibatch/loss", loss, step)
                if not math.isfinite(loss):
                    history.stopped, history.stopped_at = "diverged", step
                last = step == config.steps or history.stopped is not None
                if last or _passes(step, chunk, config.eval_every):
                    final = dict(evaluate(state))
                    _record_evaluations(final, step, history, writer)
                    if best is not None and _select(final, state, config, history, best):
                        best_weights = {"params": state.params, "model_state": state.model_state}
                if last or history.stopped or _passes(step, chunk, config.checkpoint_every):
                    latest.save(step, state, history.as_dict())
                bar.update(chunk)
                bar.set_postfix(loss=f"{loss:.4f}", **(
                    {"best": f"{history.best_value:.4g}"} if history.best_value is not None
                    else {}))
    finally:
        writer.close()
        latest.close()
        if best is not None:
            best.close()
    if final is None:  # resumed from the final checkpoint: nothing left to train
        final = dict(evaluate(state))
    return FitResult(state, best_weights["params"], best_weights["model_state"], history,
                     final, resumed_from)


def _passes(step: int, chunk: int, every: int) -> bool:
    """Whether the chunk of ``chunk`` steps ending at ``step`` reached a multiple of ``every``."""
    return step // every > (step - chunk) // every


def _as_record(metrics: Any) -> dict:
    return metrics.as_dict() if hasattr(metrics, "as_dict") else metrics


def _select(results: dict[str, Any], state: TrainState, config: TrainConfig,
            history: History, best: Checkpointer) -> bool:
    """Reads the selected dev metric, saves the best weights, decides on early stopping;
    True when the weights improved."""
    if SELECTED_SPLIT not in results:
        raise ValueError(f"train.select: expected evaluate() to return a {SELECTED_SPLIT!r} "
                         f"split to select on, found {sorted(results)}.")
    step = int(state.step)
    value, minimize = selected_metric(results[SELECTED_SPLIT], config.select)
    improved = history.improved(step, value, minimize)
    saved = best.latest_step()
    if improved and (saved is None or step > saved):  # a resumed run reaches saved bests again
        best.save(step, {"params": state.params, "model_state": state.model_state},
                  {"step": step, "value": value, "select": config.select})
    if not improved and config.patience and history.evals_since_best >= config.patience:
        history.stopped, history.stopped_at = "early_stopping", step
    return improved


def _record_evaluations(results: dict[str, Any], step: int, history: History,
                        writer: SummaryWriter) -> None:
    records = {name: _as_record(result) for name, result in results.items()}
    history.eval.append({"step": step, **records})
    for name, record in records.items():
        for tag, value in _scalars(record, name):
            writer.add_scalar(tag, value, step)


def _scalars(record: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, float]]:
    """(tag, value) of every number in a metrics record, nested tables joined by '/'; counts
    (size, labelled) and missing values are left out."""
    for name, value in record.items():
        if isinstance(value, Mapping):
            yield from _scalars(value, f"{prefix}/{name}")
        elif isinstance(value, float | np.floating) and name not in ("size", "labelled"):
            yield f"{prefix}/{name}", float(value)


def _record_statistics(stats: dict, kinds: dict[str, str], step: int, history: History,
                       writer: SummaryWriter) -> None:
    stats = jax.device_get(stats)
    for layer, s in stats["activations"].items():
        for field in ("mean", "std", "zero_fraction", "dead_fraction", "saturated_fraction"):
            writer.add_scalar(f"activations/{layer}/{field}", float(getattr(s, field)), step)
        counts, edges = np.asarray(s.histogram), np.asarray(s.edges)
        centers = (edges[:-1] + edges[1:]) / 2
        writer.add_histogram_raw(
            f"activations/{layer}", min=float(s.min), max=float(s.max), num=int(counts.sum()),
            sum=float((counts * centers).sum()), sum_squares=float((counts * centers**2).sum()),
            bucket_limits=edges[1:].tolist(), bucket_counts=counts.tolist(), global_step=step)
    for path, s in stats["gradients"].items():
        for field in ("norm", "max_abs", "zero_fraction", "update_ratio"):
            writer.add_scalar(f"gradients/{path}/{field}", float(getattr(s, field)), step)
    alerts = monitor_alerts(stats["activations"], stats["gradients"], kinds)
    history.monitor.append({"step": step, "alerts": [a._asdict() for a in alerts]})


def _advance_fn(train_step: StepFn, monitored_step: MonitoredStepFn | None, train: TrainData,
                batch_size: int, key: jax.Array, start_step: int
                ) -> Callable[[TrainState, int], tuple[TrainState, np.ndarray, dict | None]]:
    """``advance(state, num_steps) -> (state, losses, monitor statistics or None)`` over
    in-memory arrays (one compiled call) or an iterator of batches (one compiled step each)."""
    if isinstance(train, tuple):
        x, y = jax.device_put(train)
        steps = make_train_steps(train_step, batch_size, key, monitored_step)

        def advance_arrays(state: TrainState, num_steps: int):
            state, losses, *stats = steps(state, x, y, num_steps=num_steps)
            return state, losses, stats[0] if stats else None

        return advance_arrays
    batches = iter(train(start_step)) if callable(train) else itertools.islice(
        train, start_step, None)
    step = jax.jit(train_step)
    monitored = None if monitored_step is None else jax.jit(monitored_step)

    def advance(state: TrainState, num_steps: int):
        losses, stats = [], None
        for i, (x, y) in enumerate(itertools.islice(batches, num_steps)):
            if monitored is not None and i == num_steps - 1:
                state, loss, stats = monitored(state, x, y)
            else:
                state, loss = step(state, x, y)
            losses.append(loss)
        if len(losses) < num_steps:
            raise ValueError(f"train: the iterator of batches ended at step "
                             f"{int(state.step)}, expected {num_steps - len(losses)} more.")
        return state, np.asarray(losses), stats

    return advance
