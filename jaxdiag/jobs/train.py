"""``jaxdiag train``: a shared trunk with named heads, trained, transferred and compared.

Floor 7, beside the main job: it composes floor-3 pieces (config,
heads, masked losses, transfer optimizer, the loop) into runs, and studies of runs, each in
its own run folder.
"""

import copy
import dataclasses
import json
from pathlib import Path

import jax
import numpy as np
from tqdm.auto import tqdm

from jaxdiag.data import Normalizer, fit_normalizer, normalize, with_random_translations
from jaxdiag.experiment import (
    config_from_dict,
    config_to_dict,
    fit,
    init_train_state,
    make_optimizer,
)
from jaxdiag.experiment.checkpoint import Checkpointer
from jaxdiag.experiment.config import apply_overrides, load_config, require_key
from jaxdiag.experiment.data_setup import load_dataset
from jaxdiag.experiment.domain_adaptation import adaptation_loss, init_domain_head
from jaxdiag.experiment.heads import HEADS, TRUNK, configured_multihead_model
from jaxdiag.experiment.loop import BEST
from jaxdiag.experiment.multitask_config import DOMAIN_HEAD, MultiTaskConfig, StudyConfig
from jaxdiag.experiment.multitask_eval import make_multitask_evaluator
from jaxdiag.experiment.multitask_step import make_multitask_step
from jaxdiag.experiment.run_folder import (
    CONFIG_FILE,
    check_saved_config,
    open_run_folder,
    read_json,
    write_atomic,
)
from jaxdiag.experiment.task_data import shifted_target, task_splits
from jaxdiag.experiment.transfer import (
    frozen_leaves,
    load_trunk,
    transfer_labels,
    transfer_optimizer,
)
from jaxdiag.models import Params
from jaxdiag.models.footprint import parameter_bytes, require_fits
from jaxdiag.search import inverse_frequency_weights

SUMMARY_FILE = "summary.json"
STUDY_FILE = "study.json"
NORMALIZER_FILE = "normalizer.npz"
# fold_in constant of the translations' key: not a head index or an epoch of the minibatches.
TRANSLATION_STREAM = 2**31 - 1
TARGET_STREAM, DANN_STREAM = 2**31 - 2, 2**31 - 3  # the target batches', the domain head's


def run_train_job(
    config: MultiTaskConfig,
    runs_dir: str | Path = "runs",
    *,
    fresh: bool = False,
    progress: bool = True,
    config_dir: str | Path = ".",
    sources_dir: str | Path | None = None,
) -> dict:
    """Runs (or resumes) ``config`` in ``runs_dir/config.name``; a study runs all its arms.

    Steps: train the transfer source first when it is a config whose run is not finished;
    load and split the data, label every task (hiding ``missing_fraction`` of the training
    labels); normalize with the source run's statistics (transfer) or the training split's;
    build the trunk and heads, load the source trunk, label the leaves for the transfer mode;
    train with dev evaluation, best and latest checkpoints and early stopping; evaluate dev
    and test at the best checkpoint; write ``summary.json``.

    Args:
      config: the resolved config.
      runs_dir: parent folder of runs.
      fresh: start this run over (the transfer source is never deleted).
      progress: show progress bars.
      config_dir: folder that relative ``transfer.source`` paths are taken from.
      sources_dir: parent folder of the runs of transfer sources given as configs (default:
        ``runs_dir``).

    Returns:
      The summary (``summary.json``): {"run_dir", "config", "tasks", "data", "transfer",
      "training", "dev", "test", "history"}; "transfer.trunk_unchanged" says whether every
      trunk parameter is bit for bit what training started from (True for head_only). For a
      study, the study summary (``study.json``).

    Raises:
      ValueError: a bad config value, data file or transfer source, naming it; nothing in the
        run folder is touched then.
    """
    if config.study.arms:
        return run_study(config, runs_dir, fresh=fresh, progress=progress,
                         config_dir=config_dir)
    dataset = load_dataset(config.data.source, config.data.label_column, "data.source")
    require_key(config.data.translate == 0 or dataset.x.ndim == 4, "data.translate",
                "0 for examples that are not images (h, w, c)",
                f"{config.data.translate} for examples of shape {dataset.x.shape[1:]}")
    source = (_pretrained(config.transfer.source, sources_dir or runs_dir, Path(config_dir),
                          progress) if config.transfer.mode != "none" else None)
    splits, widths = task_splits(dataset, config.data, config.tasks, config.seed)
    adaptation = config.adaptation
    if adaptation.method and adaptation.target:
        x_target = load_dataset(adaptation.target, config.data.label_column,
                                "adaptation.target").x
        require_key(x_target.shape[1:] == splits["train"][0].shape[1:], "adaptation.target",
                    f"inputs of the training examples' shape {splits['train'][0].shape[1:]}",
                    f"{x_target.shape[1:]} in {adaptation.target}")
    elif adaptation.method:
        splits, x_target = shifted_target(splits, adaptation.unlabelled_fraction, config.seed)
    normalizer = source[2] if source else fit_normalizer(splits["train"][0])
    splits = {name: (normalize(x, normalizer), labels) for name, (x, labels) in splits.items()}

    def make_model():
        return configured_multihead_model(config.model, splits["train"][0].shape[1:], widths,
                                          config.seed)

    require_fits("model.hidden", parameter_bytes(lambda: make_model().params))
    model = make_model()
    if adaptation.method == "dann":  # the domain classifier trains with the heads
        width = jax.eval_shape(model.features, model.params, splits["train"][0][:2]).shape[-1]
        head = init_domain_head(jax.random.fold_in(jax.random.key(config.seed), DANN_STREAM),
                                width)
        model = model._replace(params={**model.params,
                                       HEADS: {**model.params[HEADS], DOMAIN_HEAD: head}})
    params = load_trunk(model.params, source[1], source[0]) if source else model.params
    mode = config.transfer.mode
    labels = transfer_labels(model, mode, config.transfer.last_n)
    tx = transfer_optimizer(
        lambda lr: make_optimizer(dataclasses.replace(config.optimizer, learning_rate=lr)),
        config.optimizer.learning_rate, labels,
        1.0 if mode == "none" else config.transfer.trunk_lr_scale,
        0 if mode == "none" else config.transfer.probe_steps)
    with open_run_folder(runs_dir, config.name, "train", fresh) as run_dir:
        check_saved_config(run_dir, config)
        np.savez(run_dir / NORMALIZER_FILE, mean=normalizer.mean, std=normalizer.std)
        kinds = {task.name: task.kind for task in config.tasks}
        weights = {task.name: task.weight for task in config.tasks}
        train_labels = splits["train"][1]
        class_weights = {
            task.name: np.asarray(inverse_frequency_weights(
                train_labels[task.name][train_labels[task.name] >= 0], widths[task.name]),
                np.float32)
            for task in config.tasks if task.class_weights == "inverse"}
        adapt = None if not adaptation.method else adaptation_loss(
            adaptation.method, model.features, adaptation.weight,
            jax.device_put(normalize(x_target, normalizer)),
            jax.random.fold_in(jax.random.key(config.seed), TARGET_STREAM),
            lambda p: p[HEADS][DOMAIN_HEAD])
        step = make_multitask_step(model.apply, kinds, weights, tx, frozen_leaves(labels),
                                   class_weights, adapt)
        if config.data.translate:
            step = with_random_translations(
                step, config.data.translate,
                jax.random.fold_in(jax.random.key(config.seed), TRANSLATION_STREAM))
        evaluate = make_multitask_evaluator(model.apply, kinds, weights)
        n_train = len(splits["train"][0])
        train_config = dataclasses.replace(config.train,
                                           batch_size=min(config.train.batch_size, n_train))
        result = fit(init_train_state(params, tx), step, splits["train"],
                     lambda state: {"dev": evaluate(state.params, *splits["dev"])},
                     train_config, run_dir, key=jax.random.key(config.seed), progress=progress,
                     balance=None if not config.data.balance_task else (
                         lambda y, t=config.data.balance_task: y[t],
                         widths[config.data.balance_task]))
        history = result.history
        summary = {
            "run_dir": str(run_dir),
            "config": config_to_dict(config),
            "tasks": kinds,
            "class_weights": {name: w.tolist() for name, w in class_weights.items()},
            "adaptation": None if not adaptation.method else {
                "method": adaptation.method, "weight": adaptation.weight,
                "unlabelled_target": len(x_target),
                "target": adaptation.target or "the built-in shift (dev and test shifted)"},
            "data": {name: {"size": len(x), "labelled": {t: int((v >= 0).sum())
                                                         for t, v in task_labels.items()}}
                     for name, (x, task_labels) in splits.items()},
            "transfer": {"mode": mode, "source_run": source[0] if source else None,
                         "trunk_unchanged": _trunk_unchanged(params, result.state.params)},
            "training": {"steps_done": int(result.state.step), "resumed_from": result.resumed_from,
                         "stopped": history.stopped, "batch_size": train_config.batch_size,
                         "select": config.train.select, "best_step": history.best_step,
                         "best_value": history.best_value},
            "dev": evaluate(result.best_params, *splits["dev"]),
            "test": evaluate(result.best_params, *splits["test"]),
            "history": history.as_dict(),
        }
        write_atomic(run_dir / SUMMARY_FILE, json.dumps(summary, indent=1))
        return summary


def _trunk_unchanged(before: Params, after: Params) -> bool:
    """Whether every trunk parameter is bit for bit what it was before training."""
    pairs = zip(_leaves(before[TRUNK]), _leaves(after[TRUNK]), strict=True)
    return all(a.dtype == b.dtype and a.tobytes() == b.tobytes() for a, b in pairs)


def _leaves(tree: Params) -> list[np.ndarray]:
    return [np.asarray(leaf) for leaf in jax.tree.leaves(tree)]


def _pretrained(source: str, runs_dir: str | Path, config_dir: Path, progress: bool
                ) -> tuple[str, Params, Normalizer]:
    """(source run folder, its best trunk params, its normalizer); a source config whose run
    is not finished is trained (or resumed) first."""
    path = Path(source)
    if not path.is_absolute() and (config_dir / path).exists():
        path = config_dir / path
    if path.is_file():
        source_config = load_config(path, cls=MultiTaskConfig)
        run_dir = Path(runs_dir) / source_config.name
        if not _finished(run_dir, source_config):
            run_train_job(source_config, runs_dir, progress=progress, config_dir=path.parent)
        path = run_dir
    best = path / "checkpoints" / BEST
    require_key(path.is_dir() and (path / CONFIG_FILE).is_file() and best.is_dir(),
                "transfer.source", "a jaxdiag train config (.toml) or a finished run folder",
                source)
    checkpointer = Checkpointer(best)
    try:
        step = checkpointer.latest_step()
        require_key(step is not None, "transfer.source", "a run with a best checkpoint",
                    source)
        params = checkpointer.restore(step)[0]["params"]
        with np.load(path / NORMALIZER_FILE, allow_pickle=False) as saved:
            normalizer = Normalizer(saved["mean"], saved["std"])
    except ValueError:
        raise
    except Exception as e:  # TensorStore and zip errors of a damaged source run
        raise ValueError(f"config key 'transfer.source': expected a sound finished run, found "
                         f"a damaged checkpoint or normalizer in {str(path)!r} "
                         f"({type(e).__name__}); train the source again (--fresh).") from None
    finally:
        checkpointer.close()
    return str(path), params[TRUNK], normalizer


def _finished(run_dir: Path, config: MultiTaskConfig) -> bool:
    """Whether ``run_dir`` holds the summary of a finished run of ``config``."""
    summary = run_dir / SUMMARY_FILE
    return summary.is_file() and read_json(
        summary, "delete it to train the source again")["config"] == config_to_dict(config)


def study_configs(config: MultiTaskConfig) -> dict[str, list[MultiTaskConfig]]:
    """{arm: [its config for each seed]}: the study's base config with the arm's overrides,
    ``seed`` and ``name = "seed-<seed>"``, and no study."""
    base = config_to_dict(dataclasses.replace(config, study=StudyConfig()))
    return {arm.name: [config_from_dict(apply_overrides(
        copy.deepcopy(base), [*arm.set, f"seed={seed}", f'name="seed-{seed}"']),
        MultiTaskConfig) for seed in config.study.seeds] for arm in config.study.arms}


def run_study(
    config: MultiTaskConfig,
    runs_dir: str | Path = "runs",
    *,
    fresh: bool = False,
    progress: bool = True,
    config_dir: str | Path = ".",
) -> dict:
    """Runs every arm of ``config.study`` with every seed, in ``runs_dir/<name>/<arm>/
    seed-<seed>/``, and tabulates each task's test metric at the best checkpoint. A transfer
    source given as a config is trained once, in ``runs_dir``.

    Returns:
      The study summary (``study.json``): {"run_dir", "metric", "tasks", "arms": {arm:
      {task: {"mean", "std", "values"}}}}; "std" is the sample standard deviation over
      seeds (None for one seed); a task an arm does not train is absent from its row.
    """
    arms = study_configs(config)  # every arm's overrides are checked before anything runs
    metric = config.study.metric
    results: dict[str, dict] = {}
    runs = [(arm, c) for arm, configs in arms.items() for c in configs]
    with open_run_folder(runs_dir, config.name, "study", fresh) as study_dir:
        check_saved_config(study_dir, config)
        for arm, arm_config in tqdm(runs, desc="study", unit="run",
                                    disable=None if progress else True):
            summary = run_train_job(arm_config, study_dir / arm, progress=progress,
                                    config_dir=config_dir, sources_dir=runs_dir)
            for task, values in summary["test"]["tasks"].items():
                results.setdefault(arm, {}).setdefault(task, []).append(values[metric])
        table = {arm: {task: {"mean": float(np.mean(v)),
                              "std": float(np.std(v, ddof=1)) if len(v) > 1 else None,
                              "values": v} for task, v in tasks.items()}
                 for arm, tasks in results.items()}
        tasks = list(dict.fromkeys(task for row in table.values() for task in row))
        study = {"run_dir": str(study_dir), "metric": metric, "tasks": tasks,
                 "seeds": list(config.study.seeds), "arms": table}
        write_atomic(study_dir / STUDY_FILE, json.dumps(study, indent=1))
    return study
