"""The training loop: compiled chunks of steps, evaluation, checkpoints, TensorBoard, resume."""

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple

import jax
import numpy as np
from tensorboardX import SummaryWriter
from tqdm.auto import tqdm

from jaxdiag.experiment.checkpoint import Checkpointer
from jaxdiag.experiment.config import TrainConfig
from jaxdiag.experiment.evaluate import Evaluation
from jaxdiag.experiment.tensorboard import summary_writer
from jaxdiag.experiment.train_step import TrainState
from jaxdiag.monitor import monitor_alerts

Arrays = tuple[np.ndarray, np.ndarray]


class FitResult(NamedTuple):
    """What ``fit`` returns.

    Attributes:
      state: the final TrainState.
      history: {"train_loss": [[step, mean loss of the chunk ending there], ...],
        "eval": [{"step": s, split: {"loss", "error", "accuracy", "size"}, ...}, ...],
        "diverged_at": step of the first NaN/Inf loss, or None,
        "monitor": [{"step": s, "alerts": [Alert as dict, ...]}, ...] for monitored chunks}.
      final: Evaluation of every split at the final state.
      resumed_from: the checkpoint step training resumed from, or None for a fresh start.
    """

    state: TrainState
    history: dict
    final: dict[str, Evaluation]
    resumed_from: int | None


def fit(
    state: TrainState,
    train_steps: Callable[..., tuple[TrainState, jax.Array]],
    evaluate: Callable[..., Evaluation],
    splits: Mapping[str, Arrays],
    config: TrainConfig,
    run_dir: Path,
    progress: bool = True,
    kinds: dict[str, str] | None = None,
) -> FitResult:
    """Trains on ``splits["train"]`` to ``config.steps``, resuming from ``run_dir/checkpoints``.

    Every ``log_every`` steps the chunk's mean loss goes to the history and TensorBoard; every
    ``eval_every`` steps and at the end every split is evaluated; every ``checkpoint_every``
    steps and at the end the state and history are checkpointed (a checkpoint that does not
    restore is set aside and the one before it used). Training stops early at the
    first chunk whose loss is NaN or Inf. When ``train_steps`` also returns monitor statistics
    (``make_train_steps(..., monitored_step=...)``), those of each chunk's last step go to
    TensorBoard (scalars and histograms) and their alerts to ``history["monitor"]``; ``kinds``
    names each layer's activation function for the alerts. A resumed run replays nothing
    twice: TensorBoard events past the restored step are purged, and the history continues
    from the checkpoint.
    """
    checkpointer = Checkpointer(run_dir / "checkpoints")
    history: dict = {"train_loss": [], "eval": [], "diverged_at": None, "monitor": []}
    restored = checkpointer.restore_latest(like=state)
    resumed_from = None if restored is None else restored[0]
    if restored is not None:
        _, state, history = restored
        history.setdefault("monitor", [])
    writer = summary_writer(run_dir / "tensorboard", purge_step=resumed_from)
    x, y = jax.device_put(splits["train"])
    step = int(state.step)
    final = None
    try:
        with tqdm(total=config.steps, initial=step, desc="train", unit="step",
                  disable=None if progress else True, dynamic_ncols=True) as bar:
            while step < config.steps and history["diverged_at"] is None:
                chunk = min(config.log_every, config.steps - step)
                state, losses, *stats = train_steps(state, x, y, num_steps=chunk)
                step += chunk
                if stats:
                    _record_statistics(stats[0], kinds or {}, step, history, writer)
                loss = float(np.mean(losses))
                history["train_loss"].append([step, loss])
                writer.add_scalar("minibatch/loss", loss, step)
                if not math.isfinite(loss):
                    history["diverged_at"] = step
                done = step == config.steps or history["diverged_at"] is not None
                if step % config.eval_every == 0 or done:
                    final = _evaluate_splits(evaluate, state, splits)
                    _record_evaluations(final, step, history, writer)
                if step % config.checkpoint_every == 0 or done:
                    checkpointer.save(step, state, history)
                bar.update(chunk)
                bar.set_postfix(loss=f"{loss:.4f}")
    finally:
        writer.close()
        checkpointer.close()
    if final is None:  # resumed from the final checkpoint: nothing left to train
        final = _evaluate_splits(evaluate, state, splits)
    return FitResult(state, history, final, resumed_from)


def _evaluate_splits(
    evaluate: Callable[..., Evaluation], state: TrainState, splits: Mapping[str, Arrays]
) -> dict[str, Evaluation]:
    return {name: evaluate(state.params, state.model_state, *arrays)
            for name, arrays in splits.items()}


def _record_evaluations(
    results: dict[str, Evaluation], step: int, history: dict, writer: SummaryWriter
) -> None:
    history["eval"].append({"step": step, **{k: v.as_dict() for k, v in results.items()}})
    for name, result in results.items():
        writer.add_scalar(f"{name}/loss", result.loss, step)
        writer.add_scalar(f"{name}/error", result.error, step)


def _record_statistics(stats: dict, kinds: dict[str, str], step: int, history: dict,
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
    history["monitor"].append({"step": step, "alerts": [a._asdict() for a in alerts]})
