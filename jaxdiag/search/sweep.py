"""A sweep: populations of trials asked from a sampler, trained, stored, resumable.

Everything lives in ``<runs_dir>/<name>/``: ``config.toml`` (the resolved config, which
``jaxdiag sweep`` runs again as it is), ``trials.sqlite`` (every trial), ``tensorboard/`` (an
hparams summary per trial) and ``summary.json`` (best trial and leaderboard). Running the same
config again resumes: finished populations are read back, a population that was running when
killed resumes from its latest checkpoint (``checkpoints/<population>/``, at its rungs and every
``train.checkpoint_every`` steps; removed once its trials are stored). The searched model is
the config's ``[model]``, the section every command shares: the built-in "mlp" (width, depth
and optimizer searchable), "cnn", or a Python entry point ``package.module:function``
returning the user's model for a key.
"""

import contextlib
import dataclasses
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tensorboardX import SummaryWriter

from jaxdiag.data import fit_normalizer, normalize
from jaxdiag.experiment import DataConfig, config_from_dict, first_difference, load_splits
from jaxdiag.experiment.config import (
    ModelConfig,
    OptimizerConfig,
    Seed,
    TrainConfig,
    apply_overrides,
    read_config_file,
    require_folder_name,
    require_key,
)
from jaxdiag.experiment.run_folder import (
    check_saved_config,
    open_run_folder,
    read_json,
    write_atomic,
)
from jaxdiag.experiment.tensorboard import summary_writer
from jaxdiag.models import LeNet
from jaxdiag.models.entry_point import model_factory
from jaxdiag.search.hosts import barrier, from_primary, is_primary
from jaxdiag.search.model_task import ModelTask, mlp_task, nnx_factory
from jaxdiag.search.population import Data, train_population
from jaxdiag.search.samplers import SAMPLERS, GPSampler, GridSampler, Sampler
from jaxdiag.search.space import Space, space_from_dict
from jaxdiag.search.store import TrialStore
from jaxdiag.search.task import MEMBER_HPARAMS, SHAPE_HPARAMS, Task

LEGACY_CONFIG_FILE = "sweep.json"  # what sweeps before config.toml saved
STORE_FILE = "trials.sqlite"
CHECKPOINTS = "checkpoints"  # the running population's, until its trials are stored
SUMMARY_FILE = "summary.json"
SEARCHABLE = (*MEMBER_HPARAMS, *SHAPE_HPARAMS, "optimizer")
DEFAULT_SPACE = {
    "learning_rate": {"type": "log_uniform", "low": 1e-3, "high": 1.0},
    "momentum": {"type": "uniform", "low": 0.0, "high": 0.99},
    "weight_decay": {"type": "log_uniform", "low": 1e-6, "high": 1e-2},
    "dropout": {"type": "uniform", "low": 0.0, "high": 0.5},
}


@dataclass(frozen=True)
class HalvingConfig:
    """Successive halving: at each rung step the best ``keep_fraction`` of the running members
    (by dev error, then dev loss) go on; no rungs, no halving."""

    rungs: tuple[int, ...] = ()
    keep_fraction: float = 1 / 3

    def __post_init__(self):
        require_key(list(self.rungs) == sorted(set(self.rungs)) and all(r > 0 for r in self.rungs),
                    "halving.rungs", "increasing positive steps", list(self.rungs))
        require_key(0 < self.keep_fraction <= 1, "halving.keep_fraction", "a value in (0, 1]",
                    self.keep_fraction)


@dataclass(frozen=True)
class SweepConfig:
    """A sweep: ``populations`` batches of ``population_size`` trials from ``sampler``.

    sampler: "grid" (``points_per_axis`` values per axis), "random", "sobol" or "gp".
    model: the searched model (the section every command shares): ``name = "mlp"`` (the
      built-in MLP task, as many layers as ``hidden`` of equal widths; width and depth are
      searchable), "cnn" (the built-in LeNet-like CNN, for images) or
      ``package.module:function``, a function ``key -> model``.
    optimizer: "sgd", "adam" or "adamw" (``jaxdiag.experiment.optimizer``); its learning_rate,
      momentum and weight_decay are what members take for those the space does not search.
    train: each member's steps and batch_size.
    The objective is the dev split's error rate (the target domain, as Ng recommends).
    """

    name: str = "digits-sweep"
    sampler: str = "sobol"
    seed: Seed = 0
    populations: int = 4
    population_size: int = 16
    points_per_axis: int = 3
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=lambda: ModelConfig(hidden=(64, 64)))
    optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(
        name="sgd", learning_rate=MEMBER_HPARAMS["learning_rate"],
        momentum=MEMBER_HPARAMS["momentum"], weight_decay=MEMBER_HPARAMS["weight_decay"]))
    train: TrainConfig = field(default_factory=lambda: TrainConfig(steps=300))
    halving: HalvingConfig = field(default_factory=HalvingConfig)

    def __post_init__(self):
        require_key(self.sampler in SAMPLERS, "sampler", f"one of {sorted(SAMPLERS)}", self.sampler)
        for name in ("populations", "population_size", "points_per_axis"):
            value = getattr(self, name)
            require_key(value > 0, name, "a positive integer", value)
        require_folder_name(self.name, "name")
        require_key(all(r < self.train.steps for r in self.halving.rungs), "halving.rungs",
                    f"steps below train.steps = {self.train.steps}", list(self.halving.rungs))

    def member_defaults(self) -> dict[str, float]:
        """The traced hyperparameters a member takes when the space does not search them."""
        o = self.optimizer
        return {**MEMBER_HPARAMS, "learning_rate": o.learning_rate, "momentum": o.momentum,
                "weight_decay": o.weight_decay}


def load_sweep_config(path: str | Path | None, overrides: list[str] = ()) -> tuple[SweepConfig,
                                                                                     Space, dict]:
    """The sweep config of TOML file ``path`` with ``KEY=VALUE`` overrides.

    Returns:
      (config, space, resolved dict); the ``[space]`` tables become the ``Space``.
    """
    values = apply_overrides(read_config_file(path) if path is not None else {}, overrides)
    config = config_from_dict({k: v for k, v in values.items() if k != "space"}, SweepConfig)
    # a model's dropout rate is its own static attribute: only the MLP task traces it
    space_values = values.get("space", {k: v for k, v in DEFAULT_SPACE.items()
                                        if config.model.name == "mlp" or k != "dropout"})
    for name in space_values:
        require_key(name in SEARCHABLE, f"space.{name}", f"one of {list(SEARCHABLE)}", name)
    space = space_from_dict(space_values)
    resolved = {**json.loads(json.dumps(dataclasses.asdict(config))), "space": space_values}
    return config, space, resolved


def sampler_of(config: SweepConfig) -> Sampler:
    if config.sampler == "grid":
        return GridSampler(config.points_per_axis)
    if config.sampler == "gp":
        return GPSampler(config.seed, initial=config.population_size)
    return SAMPLERS[config.sampler](config.seed)


def _check_saved_sweep(run_dir: Path, resolved: dict) -> None:
    """Writes ``config.toml`` into a new sweep folder, or checks that the saved one (or a
    ``sweep.json`` of an older version) matches."""
    legacy = run_dir / LEGACY_CONFIG_FILE
    if legacy.exists():
        difference = first_difference(
            read_json(legacy, "start the sweep over with --fresh, or choose another name"),
            resolved)
        if difference:
            raise ValueError(
                f"sweep folder {str(run_dir)!r} holds a sweep with another config (first "
                f"difference: {difference}); choose another name or start over (--fresh).")
    check_saved_config(run_dir, resolved)


def sweep_task(config: SweepConfig, data: Data, num_classes: int) -> Task | None:
    """The task ``config.model`` names: None for the built-in MLP (bucketed by width, depth
    and optimizer), a ``ModelTask`` of the CNN or of the entry point's model otherwise.

    Raises:
      ValueError: an entry point that does not load, or the CNN on data that are not images.
    """
    optimizer, model = config.optimizer.name, config.model
    if model.name == "mlp":
        require_key(bool(model.hidden) and len(set(model.hidden)) == 1, "model.hidden",
                    "one or more layers of one width (the MLP task's width and depth)",
                    list(model.hidden))
        return None
    if model.name == "cnn":
        shape = data.x_train.shape[1:]
        require_key(len(shape) == 3, "model.name", "image data (h, w, c) for 'cnn'",
                    f"inputs of shape {tuple(shape)}")
        return ModelTask(nnx_factory(LeNet, shape, num_classes, channels=model.channels,
                                     dense=model.hidden[-1], activation_name=model.activation),
                         optimizer=optimizer)
    task = ModelTask(model_factory(model.name, "model.name"), optimizer=optimizer)
    try:
        task.template  # builds the model once: a bad entry point fails here, named  # noqa: B018
    except ValueError as e:
        raise ValueError(f"config key 'model.name' ({model.name!r}): {e}") from None
    return task


def load_sweep_data(config: DataConfig, flatten: bool = True) -> Data:
    """Normalized train and dev arrays of the splits ``config`` describes, flattened to
    (n, features) for the built-in MLP task, else shaped as the data are."""
    splits = load_splits(config)
    train, dev = splits["train"].data, splits["dev"].data
    normalizer = fit_normalizer(train.x)

    def flat(x: np.ndarray) -> np.ndarray:  # the splits' own copies, normalized in place
        x = normalize(x, normalizer, in_place=True)
        return x.reshape(len(x), -1) if flatten else x

    return Data(flat(train.x), train.y, flat(dev.x), dev.y)


def train_points(points: list[dict[str, Any]], ids: list[int], data: Data,
                 config: SweepConfig, num_classes: int, task: Task | None = None,
                 checkpoint_dir: Path | None = None, log_dir: Path | None = None,
                 progress: str | None = None) -> list[dict[str, Any]]:
    """Trains one population: a program per distinct (width, depth, optimizer) bucket of
    ``mlp_task``, or one program of ``task`` when given (then points hold only what it traces).
    With ``checkpoint_dir`` each bucket checkpoints there (``bucket-<i>``) at its rungs and every
    ``train.checkpoint_every`` steps, and resumes from it; with ``log_dir`` its TensorBoard
    scalars go to ``log_dir/bucket-<i>``; ``progress`` labels its progress bars.

    Returns:
      One result per point, in order, as ``TrialStore.finish_population`` takes them.
    """
    t, model = config.train, config.model
    buckets: dict[tuple | None, list[int]] = {}
    for i, p in enumerate(points):
        shape = None if task is not None else (
            int(p.get("width", model.hidden[0])), int(p.get("depth", len(model.hidden))),
            p.get("optimizer", config.optimizer.name))
        buckets.setdefault(shape, []).append(i)
    results: list[dict[str, Any]] = [{} for _ in points]
    defaults = config.member_defaults()
    every = t.checkpoint_every if t.checkpoint_every < t.steps else None
    for b, (shape, members) in enumerate(buckets.items()):
        bucket_task = task or mlp_task(
            (data.x_train.shape[1],), num_classes, hidden=(shape[0],) * shape[1],
            optimizer=shape[2], activation=model.activation, dropout="dropout" in points[0])
        hparams = {name: np.array([points[i].get(name, defaults[name]) for i in members],
                                  np.float32)
                   for name in bucket_task.traced_hparams}
        seeds = np.array([(config.seed * 1_000_003 + ids[i]) % 2**32 for i in members])
        result = train_population(bucket_task, hparams, seeds, data, steps=t.steps,
                                  batch_size=t.batch_size, rungs=config.halving.rungs,
                                  keep_fraction=config.halving.keep_fraction,
                                  checkpoint_dir=None if checkpoint_dir is None
                                  else checkpoint_dir / f"bucket-{b}",
                                  checkpoint_every=None if checkpoint_dir is None else every,
                                  log_dir=None if log_dir is None else log_dir / f"bucket-{b}",
                                  progress=None if progress is None else progress + (
                                      f" bucket {b + 1}/{len(buckets)}" if len(buckets) > 1
                                      else ""))
        for j, i in enumerate(members):
            failed = int(result.failed_at[j])
            stopped = int(result.stopped_at[j])
            status = "failed" if failed >= 0 else ("complete" if stopped == t.steps else "stopped")
            results[i] = {
                "id": ids[i], "status": status, "dev_error": float(result.dev_error[j]),
                "dev_loss": float(result.dev_loss[j]), "steps": stopped, "failed_at": failed,
                "rungs": {step: (float(m["dev_error"][j]), float(m["dev_loss"][j]))
                          for step, m in result.rungs.items() if np.isfinite(m["dev_error"][j])}}
    return results


def run_sweep(config: SweepConfig, space: Space, resolved: dict, runs_dir: str | Path = "runs",
              *, fresh: bool = False, progress: bool = True,
              task: Task | None = None, data: Data | None = None) -> dict[str, Any]:
    """Runs or resumes the sweep ``config`` over ``space``; returns and writes its summary.

    ``task`` is the members' model (e.g. ``ModelTask`` of the user's model); None searches the
    model ``config.model`` names (the built-in ``mlp_task`` shaped by it and the space).
    ``data`` is the normalized training and dev arrays when the caller holds them already (the
    main job, whose arrays the search then shares instead of loading a copy); None loads
    ``config.data``.

    Returns:
      {"run_dir", "model", "trials", "best", "leaderboard", "counts"}: ``model`` is the class
      every trial trained; ``best`` and ``leaderboard`` (the 10 best) rank trials that ran
      every step by dev error, then dev loss.

    Raises:
      ValueError: a bad config, a space naming what the task does not trace, or a sweep folder
        holding another config.
    """
    if data is None:
        data = load_sweep_data(config.data,
                               flatten=task is None and config.model.name == "mlp")
    num_classes = int(max(data.y_train.max(), data.y_dev.max())) + 1
    task = task or sweep_task(config, data, num_classes)
    if task is not None:
        for name in space.params:
            require_key(name in task.traced_hparams, f"space.{name}",
                        f"one of {list(task.traced_hparams)} (what {task.name} traces)", name)
    sampler = sampler_of(config)
    if not is_primary():  # process 0 holds the folder; the others train with it
        run_dir = Path(runs_dir) / config.name
        failure = from_primary(lambda: None)  # whether process 0 could open the folder
        if failure is not None:
            raise ValueError(f"process 0 of the job: {failure}")
        trials = _run_populations(run_dir, config, space, data, num_classes, sampler, False,
                                  task)
        barrier("sweep done")
        return {"model": "MLP" if task is None else task.name, **summarize(trials),
                "run_dir": str(run_dir)}
    with contextlib.ExitStack() as stack:
        try:
            run_dir = stack.enter_context(open_run_folder(runs_dir, config.name, "sweep", fresh))
            _check_saved_sweep(run_dir, resolved)
        except Exception as e:  # the other processes end with it rather than wait for us
            from_primary(lambda e=e: str(e) if isinstance(e, ValueError)
                         else f"{type(e).__name__}: {e}")
            raise
        from_primary(lambda: None)
        trials = _run_populations(run_dir, config, space, data, num_classes, sampler, progress,
                                  task)
        summary = {"model": "MLP" if task is None else task.name, **summarize(trials)}
        summary["run_dir"] = str(run_dir)
        write_atomic(run_dir / SUMMARY_FILE, json.dumps(summary, indent=1))
        barrier("sweep done")
    return summary


def _run_populations(run_dir: Path, config: SweepConfig, space: Space, data: Data,
                     num_classes: int, sampler: Sampler, progress: bool,
                     task: Task | None) -> list[dict[str, Any]]:
    """Trains every population not yet complete in ``run_dir``'s store; returns every trial.

    In a ``jax.distributed`` job every process calls this: process 0 reads and writes the
    store and TensorBoard and decides the points, which it broadcasts; all train them."""
    primary = is_primary()
    store = TrialStore(run_dir / STORE_FILE) if primary else None
    writer = summary_writer(run_dir / "tensorboard") if primary else None
    try:
        for population in range(config.populations):
            def plan(population=population) -> dict | None:
                if store.population_status(population) == "complete":
                    return {"skip": True}
                done = [t for t in store.trials() if t["population"] < population]
                observed = [(t["hparams"], t["dev_error"] if t["dev_error"] is not None
                             else float("nan")) for t in done]
                points = sampler.ask(space, config.population_size, len(done), observed)
                if not points:
                    return None  # a grid with nothing left
                return {"skip": False, "points": points,
                        "ids": store.start_population(population, points)}

            planned = from_primary(plan)
            if planned is None:
                break
            if planned["skip"]:
                continue
            points, ids = planned["points"], planned["ids"]
            checkpoints = run_dir / CHECKPOINTS / str(population)
            results = train_points(
                points, ids, data, config, num_classes, task=task, checkpoint_dir=checkpoints,
                log_dir=run_dir / "tensorboard" / f"population-{population}" if primary
                else None,
                progress=f"population {population + 1}/{config.populations}" if progress
                else None)
            barrier(f"population {population} trained")  # nobody reads its checkpoints now
            if primary:
                store.finish_population(results)
                shutil.rmtree(checkpoints, ignore_errors=True)  # the trials hold it all now
                for point, result in zip(points, results, strict=True):
                    _log_hparams(writer, point, result)
        return from_primary(lambda: store.trials())
    finally:
        if primary:
            store.close()
            writer.close()


def _log_hparams(writer: SummaryWriter, point: dict, result: dict) -> None:
    metrics = {"hparam/dev_error": result["dev_error"], "hparam/dev_loss": result["dev_loss"]}
    writer.add_hparams({k: v for k, v in point.items()},
                       {k: (v if np.isfinite(v) else float("nan")) for k, v in metrics.items()},
                       name=f"trial_{result['id']:05d}")


def summarize(trials: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts by status, the best complete trial and the top 10 (dev error, then dev loss)."""
    finished = [t for t in trials if t["status"] == "complete"]
    ranked = sorted(finished, key=lambda t: (t["dev_error"], t["dev_loss"], t["id"]))
    counts = {s: sum(t["status"] == s for t in trials)
              for s in ("complete", "stopped", "failed", "running")}
    slim = [{k: t[k] for k in ("id", "population", "hparams", "dev_error", "dev_loss")}
            for t in ranked[:10]]
    return {"trials": len(trials), "counts": counts, "best": slim[0] if slim else None,
            "leaderboard": slim}
