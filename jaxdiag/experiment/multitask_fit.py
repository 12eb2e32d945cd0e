"""The loop of ``jaxdiag train``: compiled steps, dev evaluation, best and latest checkpoints,
early stopping, TensorBoard, and resume with identical numbers."""

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
from jaxdiag.experiment.multitask_config import FitConfig
from jaxdiag.experiment.tensorboard import summary_writer
from jaxdiag.experiment.train_step import TrainState, make_train_steps
from jaxdiag.models import Params

Labels = Mapping[str, np.ndarray]
Batch = tuple[np.ndarray, Labels]
# In-memory arrays (x, {task: labels}); or a function start_step -> iterator of batches; or an
# iterator of batches (fast-forwarded past the steps already taken when a run resumes).
TrainData = Batch | Callable[[int], Iterable[Batch]] | Iterator[Batch]
LATEST, BEST = "latest", "best"


class TaskFitResult(NamedTuple):
    """What ``fit_tasks`` returns.

    Attributes:
      state: the TrainState at the last step taken.
      best_params: the params of the best dev evaluation (the last params if none ran).
      history: {"train_loss": [[step, mean loss of the chunk]], "eval": [{"step", "dev":
        metrics}], "best_step", "best_value", "evals_since_best", "stopped": None,
        "early_stopping" or "diverged"}.
      resumed_from: the step training resumed from, or None for a fresh start.
    """

    state: TrainState
    best_params: Params
    history: dict
    resumed_from: int | None


def selected_metric(metrics: dict, select: str) -> tuple[float, bool]:
    """``(value, minimize)`` of ``select`` ("loss", "accuracy" or "<task>.<metric>") in an
    evaluation from ``make_multitask_evaluator``; a missing value (roc_auc with one class)
    reads as NaN, which never counts as an improvement."""
    task, _, metric = select.rpartition(".")
    value = metrics["tasks"][task][metric] if task else metrics[metric]
    return (math.nan if value is None else float(value)), metric == "loss"


def fit_tasks(
    state: TrainState,
    train_step: Callable[[TrainState, Any, Any], tuple[TrainState, jax.Array]],
    train: TrainData,
    evaluate_dev: Callable[[Params], dict],
    config: FitConfig,
    run_dir: Path,
    seed: int = 0,
    progress: bool = True,
) -> TaskFitResult:
    """Trains to ``config.steps``, resuming from ``run_dir/checkpoints/latest``.

    Every ``log_every`` steps the chunk's mean loss goes to the history and TensorBoard;
    every ``eval_every`` steps and at the last step ``evaluate_dev(params)`` runs, the best
    params by ``config.select`` are saved to ``checkpoints/best`` and the whole state to
    ``checkpoints/latest``; after ``patience`` evaluations without improvement training stops.
    A NaN or Inf loss stops training too. In-memory arrays train ``log_every`` steps per
    compiled call, with minibatches that depend only on ``seed`` and the step, so a resumed
    run takes the same steps as an uninterrupted one.
    """
    latest = Checkpointer(run_dir / "checkpoints" / LATEST, max_to_keep=1)
    best = Checkpointer(run_dir / "checkpoints" / BEST, max_to_keep=1)
    history: dict = {"train_loss": [], "eval": [], "best_step": None, "best_value": None,
                     "evals_since_best": 0, "stopped": None}
    best_params = state.params
    restored = latest.restore_latest(like=state)
    resumed_from = None if restored is None else restored[0]
    if restored is not None:
        _, state, history = restored
        if history["best_step"] is not None:
            best_params = best.restore(history["best_step"], like={"params": state.params}
                                       )[0]["params"]
    advance = _advance_fn(train_step, train, config.batch_size, seed, int(state.step))
    writer = summary_writer(run_dir / "tensorboard", purge_step=resumed_from)
    step = int(state.step)
    try:
        with tqdm(total=config.steps, initial=step, desc="train", unit="step",
                  disable=None if progress else True, dynamic_ncols=True) as bar:
            while step < config.steps and history["stopped"] is None:
                chunk = min(config.log_every, config.steps - step)
                state, losses = advance(state, chunk)
                step += chunk
                loss = float(np.mean(losses))
                history["train_loss"].append([step, loss])
                writer.add_scalar("train/loss", loss, step)
                if not math.isfinite(loss):
                    history["stopped"] = "diverged"
                if step % config.eval_every == 0 or step == config.steps or history["stopped"]:
                    if _evaluate(state, evaluate_dev, config, history, writer, best):
                        best_params = state.params
                    latest.save(step, state, history)
                bar.update(chunk)
                bar.set_postfix(loss=f"{loss:.4f}", best=f"{history['best_value'] or 0:.4g}")
    finally:
        writer.close()
        latest.close()
        best.close()
    return TaskFitResult(state, best_params, history, resumed_from)


def _evaluate(state: TrainState, evaluate_dev: Callable[[Params], dict], config: FitConfig,
              history: dict, writer: SummaryWriter, best: Checkpointer) -> bool:
    """Evaluates dev, records it, saves the best params; True when they improved."""
    step = int(state.step)
    metrics = evaluate_dev(state.params)
    history["eval"].append({"step": step, "dev": metrics})
    writer.add_scalar("dev/loss", metrics["loss"], step)
    writer.add_scalar("dev/accuracy", metrics["accuracy"], step)
    for task, values in metrics["tasks"].items():
        for name, value in values.items():
            if name != "labelled" and value is not None:
                writer.add_scalar(f"dev/{task}/{name}", value, step)
    value, minimize = selected_metric(metrics, config.select)
    previous = history["best_value"]
    improved = math.isfinite(value) and (
        previous is None or (value < previous if minimize else value > previous))
    if improved:
        history.update(best_step=step, best_value=value, evals_since_best=0)
        if best.latest_step() != step:  # a resumed run may reach a saved best step again
            best.save(step, {"params": state.params}, {"step": step, "value": value,
                                                       "select": config.select})
    else:
        history["evals_since_best"] += 1
        if config.patience and history["evals_since_best"] >= config.patience:
            history["stopped"] = "early_stopping"
    return improved


def _advance_fn(train_step, train: TrainData, batch_size: int, seed: int, start_step: int
                ) -> Callable[[TrainState, int], tuple[TrainState, np.ndarray]]:
    """``advance(state, num_steps) -> (state, losses)`` over in-memory arrays (one compiled
    call) or an iterator of batches (one compiled step per batch)."""
    if isinstance(train, tuple):
        x, labels = jax.device_put(train)
        steps = make_train_steps(train_step, batch_size, jax.random.key(seed))
        return lambda state, num_steps: steps(state, x, labels, num_steps=num_steps)
    if callable(train):
        batches = iter(train(start_step))
    else:
        batches = itertools.islice(train, start_step, None)
    step = jax.jit(train_step)

    def advance(state: TrainState, num_steps: int) -> tuple[TrainState, np.ndarray]:
        losses = []
        for x, labels in itertools.islice(batches, num_steps):
            state, loss = step(state, x, labels)
            losses.append(loss)
        if len(losses) < num_steps:
            raise ValueError(f"train: the iterator of batches ended at step "
                             f"{int(state.step)}, expected {num_steps - len(losses)} more.")
        return state, np.asarray(losses)

    return advance
