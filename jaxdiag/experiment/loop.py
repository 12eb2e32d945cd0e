"""The training loop: ``run_segments`` trains segment after segment with TensorBoard,
checkpoints, progress and resume for single runs and populations alike; ``fit``, the single
run of ``jaxdiag run`` and ``jaxdiag train``, adds evaluation, latest and best checkpoints,
early stopping and monitor statistics."""

import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np
from tqdm.auto import tqdm

from jaxdiag.experiment.checkpoint import Checkpointer
from jaxdiag.experiment.config import MINIMIZED_METRICS, TrainConfig
from jaxdiag.experiment.data_parallel import data_parallel
from jaxdiag.experiment.history import History
from jaxdiag.experiment.tensorboard import summary_writer
from jaxdiag.experiment.train_step import Balance, TrainState, make_train_steps
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
    balance: Balance | None = None,
    devices: Sequence[jax.Device] | None = None,
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
      balance: class-balanced minibatches of in-memory arrays (``make_train_steps``).
      devices: in-memory arrays are trained data parallel over these devices (all that JAX
        sees when None): each minibatch split along its batch axis, the state and the arrays
        replicated (``jaxdiag.experiment.data_parallel``); an iterator's batches go to the
        default device.

    Every ``log_every`` steps the chunk's mean loss goes to the history and TensorBoard; every
    ``eval_every`` steps and at the end ``evaluate`` runs, and when ``config.select`` names a
    metric, the params and model state of the best dev value are kept in ``checkpoints/best``
    (written with each checkpoint);
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
    best_weights = _weights(state)
    restored = latest.restore_latest(like=state)
    resumed_from = None if restored is None else restored[0]
    if restored is not None:
        _, state, record = restored
        history = History.from_dict(record)
        best_weights = _weights(state)
        if best is not None and history.best_step is not None:
            # The newest best checkpoint: the history's, or one that the killed run saved after
            # its latest checkpoint (and which replaced it), which the replay reaches again.
            best_weights = best.restore(best.latest_step(), like=best_weights)[0]
    advance = _advance_fn(train_step, monitored_step, train, config.batch_size, key,
                          int(state.step), balance, devices)
    final = best_unsaved = None

    def train_segment(start: int, end: int) -> SegmentLog:
        nonlocal state, final, best_weights, best_unsaved
        state, losses, stats = advance(state, end - start)
        scalars, histograms = ({}, {}) if stats is None else _statistics(stats, kinds or {},
                                                                         end, history)
        loss = float(np.mean(losses))
        history.train_loss.append([end, loss])
        scalars["minibatch/loss"] = loss
        if not math.isfinite(loss):
            history.stopped, history.stopped_at = "diverged", end
        if end == config.steps or history.stopped or _passes(end, end - start,
                                                             config.eval_every):
            final = dict(evaluate(state))
            scalars.update(_record_evaluations(final, end, history))
            if best is not None and _select(final, state, config, history):
                best_weights = _weights(state)
                best_unsaved = {"step": end, "value": history.best_value,
                                "select": config.select}
        postfix = {"loss": f"{loss:.4f}", **({"best": f"{history.best_value:.4g}"}
                                              if history.best_value is not None else {})}
        return SegmentLog(scalars, postfix, histograms, stop=history.stopped is not None)

    def save(step: int) -> None:
        """The best weights found since the last checkpoint, then the latest state: the best
        checkpoint is written with the latest (not at every improvement, which cost 30 Orbax
        saves in a default run), since a resumed run replays the same steps and finds the
        same bests again."""
        nonlocal best_unsaved
        if best_unsaved is not None:
            saved = best.latest_step()
            if saved is None or best_unsaved["step"] > saved:  # a replay reaches saved bests
                best.save(best_unsaved["step"], best_weights, best_unsaved)
            best_unsaved = None
        latest.save(step, state, history.as_dict())

    try:
        if history.stopped is None:
            run_segments(train_segment, [*range(0, config.steps, config.log_every),
                                         config.steps],
                         start=int(state.step),
                         save=save,
                         checkpoint_every=config.checkpoint_every,
                         log_dir=run_dir / "tensorboard", progress="train" if progress else None)
    finally:
        latest.close()
        if best is not None:
            best.close()
    if final is None:  # resumed from the final checkpoint: nothing left to train
        final = dict(evaluate(state))
    return FitResult(state, best_weights["params"], best_weights["model_state"], history,
                     final, resumed_from)


@dataclass(frozen=True)
class SegmentLog:
    """What one segment of training reports to ``run_segments``.

    Attributes:
      scalars: {TensorBoard tag: value} at the segment's last step.
      postfix: {name: text} for the progress bar.
      histograms: {TensorBoard tag: ``SummaryWriter.add_histogram_raw`` keywords}.
      stop: whether training stops after this segment (divergence, early stopping).
    """

    scalars: dict[str, float]
    postfix: dict[str, str] = field(default_factory=dict)
    histograms: dict[str, dict] = field(default_factory=dict)
    stop: bool = False


def run_segments(
    train_segment: Callable[[int, int], SegmentLog],
    boundaries: Sequence[int],
    *,
    start: int = 0,
    save: Callable[[int], None] | None = None,
    checkpoint_every: int | None = None,
    log_dir: Path | None = None,
    progress: str | None = None,
) -> int:
    """The training loop of single runs (``fit``) and populations (``train_population``).

    Trains segment after segment, ``train_segment(start, end)`` taking the steps ``[start,
    end)`` between consecutive ``boundaries`` (increasing, from 0 to the last step) past
    ``start`` (the step a resumed run restored); after each, writes its scalars and histograms
    to TensorBoard at ``end``, calls ``save(end)`` when ``end`` reaches a multiple of
    ``checkpoint_every`` (every segment when None), at the last boundary and when the segment
    stops the run, and moves the progress bar.

    Args:
      train_segment: trains ``[start, end)``; returns what to log.
      boundaries: the segment ends, with 0 first.
      start: the step training starts from (0, or the checkpoint's).
      save: writes a checkpoint at a step; no checkpoints when None.
      checkpoint_every: steps between checkpoints.
      log_dir: TensorBoard's folder; events past ``start`` are purged on resume. None: no
        events.
      progress: the progress bar's label; no bar when None.

    Returns:
      The step reached.
    """
    writer = None if log_dir is None else summary_writer(log_dir, purge_step=start)
    total, step = boundaries[-1], start
    try:
        with tqdm(total=total, initial=start, desc=progress, unit="step",
                  disable=True if progress is None else None, dynamic_ncols=True) as bar:
            for end in (b for b in boundaries if b > start):
                log = train_segment(step, end)
                if writer is not None:
                    for tag, value in log.scalars.items():
                        writer.add_scalar(tag, value, end)
                    for tag, histogram in log.histograms.items():
                        writer.add_histogram_raw(tag, global_step=end, **histogram)
                if save is not None and (end == total or log.stop or checkpoint_every is None
                                         or _passes(end, end - step, checkpoint_every)):
                    save(end)
                bar.update(end - step)
                bar.set_postfix(log.postfix)
                step = end
                if log.stop:
                    break
    finally:
        if writer is not None:
            writer.close()
    return step


def _weights(state: TrainState) -> dict:
    """What the best checkpoint keeps of a state: its params and model state."""
    return {"params": state.params, "model_state": state.model_state}


def _passes(step: int, chunk: int, every: int) -> bool:
    """Whether the chunk of ``chunk`` steps ending at ``step`` reached a multiple of ``every``."""
    return step // every > (step - chunk) // every


def _as_record(metrics: Any) -> dict:
    return metrics.as_dict() if hasattr(metrics, "as_dict") else metrics


def _select(results: dict[str, Any], state: TrainState, config: TrainConfig,
            history: History) -> bool:
    """Reads the selected dev metric, decides on early stopping; True when the weights
    improved."""
    if SELECTED_SPLIT not in results:
        raise ValueError(f"train.select: expected evaluate() to return a {SELECTED_SPLIT!r} "
                         f"split to select on, found {sorted(results)}.")
    step = int(state.step)
    value, minimize = selected_metric(results[SELECTED_SPLIT], config.select)
    improved = history.improved(step, value, minimize)
    if not improved and config.patience and history.evals_since_best >= config.patience:
        history.stopped, history.stopped_at = "early_stopping", step
    return improved


def _record_evaluations(results: dict[str, Any], step: int, history: History
                        ) -> dict[str, float]:
    """Appends the evaluations to the history; returns their TensorBoard scalars."""
    records = {name: _as_record(result) for name, result in results.items()}
    history.eval.append({"step": step, **records})
    return {tag: value for name, record in records.items()
            for tag, value in _scalars(record, name)}


def _scalars(record: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, float]]:
    """(tag, value) of every number in a metrics record, nested tables joined by '/'; counts
    (size, labelled) and missing values are left out."""
    for name, value in record.items():
        if isinstance(value, Mapping):
            yield from _scalars(value, f"{prefix}/{name}")
        elif isinstance(value, float | np.floating) and name not in ("size", "labelled"):
            yield f"{prefix}/{name}", float(value)


def _statistics(stats: dict, kinds: dict[str, str], step: int, history: History
                ) -> tuple[dict[str, float], dict[str, dict]]:
    """Appends the monitor's alerts to the history; returns its TensorBoard scalars and
    histograms."""
    stats = jax.device_get(stats)
    scalars, histograms = {}, {}
    for layer, s in stats["activations"].items():
        for name in ("mean", "std", "zero_fraction", "dead_fraction", "saturated_fraction"):
            scalars[f"activations/{layer}/{name}"] = float(getattr(s, name))
        counts, edges = np.asarray(s.histogram), np.asarray(s.edges)
        centers = (edges[:-1] + edges[1:]) / 2
        histograms[f"activations/{layer}"] = dict(
            min=float(s.min), max=float(s.max), num=int(counts.sum()),
            sum=float((counts * centers).sum()), sum_squares=float((counts * centers**2).sum()),
            bucket_limits=edges[1:].tolist(), bucket_counts=counts.tolist())
    for path, s in stats["gradients"].items():
        for name in ("norm", "max_abs", "zero_fraction", "update_ratio"):
            scalars[f"gradients/{path}/{name}"] = float(getattr(s, name))
    alerts = monitor_alerts(stats["activations"], stats["gradients"], kinds)
    history.monitor.append({"step": step, "alerts": [a._asdict() for a in alerts]})
    return scalars, histograms


def _advance_fn(train_step: StepFn, monitored_step: MonitoredStepFn | None, train: TrainData,
                batch_size: int, key: jax.Array, start_step: int, balance: Balance | None = None,
                devices: Sequence[jax.Device] | None = None,
                ) -> Callable[[TrainState, int], tuple[TrainState, np.ndarray, dict | None]]:
    """``advance(state, num_steps) -> (state, losses, monitor statistics or None)`` over
    in-memory arrays (one compiled call, data parallel over ``devices``) or an iterator of
    batches (one compiled step each)."""
    if isinstance(train, tuple):
        layout = data_parallel(batch_size, devices)
        x, y = jax.device_put(train, layout.replicated)
        steps = make_train_steps(train_step, batch_size, key, monitored_step, balance,
                                 batch_sharding=layout.batch)

        def advance_arrays(state: TrainState, num_steps: int):
            state = jax.device_put(state, layout.replicated)  # a no-op once there
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
