"""The main job (``jaxdiag run``): data, baseline training, evaluation and diagnosis of one run.

Floor 7: it composes the floors below into the methodology's steps and returns the report
that ``report.json`` holds.
"""

import dataclasses
import functools
import json
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jax
import numpy as np
from flax import nnx

from jaxdiag.data import DomainShift, Split, fit_normalizer, normalize, read_dev_tags
from jaxdiag.diagnose import (
    LabelErrors,
    bias_variance,
    chance_level_check,
    costly_confusions,
    cross_validated_probabilities,
    dev_set_resolution,
    error_categories,
    error_intervals,
    find_label_errors,
    initial_loss_check,
    input_scale_check,
    label_check,
    learning_curve,
    learning_rate_range,
    loss_curve_pathologies,
    next_steps,
    overfit_one_batch,
    overfitting_from_curves,
    plant_label_flips,
    triage_label_errors,
    worst_mistakes,
)
from jaxdiag.diagnose.remedy_effect import RemedyEffect, remedy_effect
from jaxdiag.diagnose.subset_models import train_on_subsets
from jaxdiag.experiment import (
    Evaluation,
    LossFn,
    RunConfig,
    TrainState,
    config_to_dict,
    cross_entropy_loss,
    fit,
    init_train_state,
    load_splits,
    make_block_predictor,
    make_evaluator,
    make_monitored_train_step,
    make_optimizer,
    make_train_step,
    target_kind,
)
from jaxdiag.experiment.config import ADAPTATIONS, REMEDY_WEIGHTS, ModelConfig
from jaxdiag.experiment.npz_writer import RowBlocks, write_npz_atomic
from jaxdiag.experiment.phases import PhaseTimes
from jaxdiag.experiment.run_folder import (
    check_saved_config,
    open_run_folder,
    set_aside,
    write_atomic,
)
from jaxdiag.gradcheck import gradcheck
from jaxdiag.models import Model, as_model, build_model
from jaxdiag.models.entry_point import model_factory
from jaxdiag.models.footprint import parameter_bytes, require_fits
from jaxdiag.monitor import activation_kinds, distinct_alerts, layer_histograms
from jaxdiag.report import PREDICTIONS_FILE, REPORT_FILE, save_image_grid
from jaxdiag.search import (
    Data,
    ModelTask,
    RemedyTask,
    SweepConfig,
    Task,
    inverse_frequency_weights,
    member_errors,
    mlp_task,
    run_sweep,
    space_from_dict,
)

WORST_MISTAKES_FILE = "worst_mistakes.png"
UNLABELLED_TARGET = 0.25  # of train, held out as the target's unlabelled inputs to adapt to


def run_main_job(
    config: RunConfig,
    runs_dir: str | Path = "runs",
    *,
    fresh: bool = False,
    progress: bool = True,
    model: Any = None,
) -> dict:
    """Runs (or resumes) ``config`` in ``runs_dir/config.name`` and writes ``report.json``.

    ``model`` replaces the config's baseline (``config.model`` is then unused): a Flax NNX
    module, a ``(linen_module, variables)`` pair or an ``(apply_fn, params)`` pair whose
    ``apply_fn(params, x)`` returns logits of shape (batch, classes) (see
    ``jaxdiag.models.as_model``), or a factory ``key -> model`` of those. Resuming needs the
    same model again. The label-error folds, the learning curve and the random search are
    populations of that model (``ModelTask``): from a factory each member is built from its
    own key, from a model every member starts from its weights. Without ``model`` they are
    populations of the configured built-in model (``mlp_task`` for the MLP, whose search
    traces its dropout rate too).

    Steps: load and split the data (train and train-dev from the source domain, dev and test
    from the target domain); normalize inputs with train statistics; sanity checks (labels,
    input scale, initial loss against ln(C), overfit one batch) and a float64 gradient check
    on one training batch; train the baseline with activation and gradient statistics every
    ``log_every`` steps, checkpointing and logging to TensorBoard; evaluate every split;
    read the training curve for pathologies; decompose the errors into avoidable bias,
    variance, data mismatch and dev overfitting; analyse the dev set's errors (worst mistakes,
    drawn to ``worst_mistakes.png`` for images; costly confusions; per-class ceilings); look
    for label errors in the training split by confident learning; fit a learning curve; run a
    learning-rate range test; check that the train-dev error beats chance (a model that ignores
    its inputs); put an interval on every error and gap; rank the next steps (FSDL's decision
    tree; labels at chance come first; only significant gaps and search gains count).

    ``report.json`` is first written before training with what is known then (data, sanity
    checks, gradient check, first-step histograms; "complete": false), so that a killed run
    can still be reported; ``predictions.npz`` holds every split's labels and final
    probabilities for the report's curves.

    Returns:
      The report: {"complete": True, "run_dir", "config", "data", "sanity", "training",
      "splits", "bias_variance", "gradcheck", "layer_histograms", "monitor", "loss_curve",
      "overfitting" (None, or dev loss rising while the training loss fell), "uncertainty"
      (every split's error interval, every gap's, the dev set's resolution), "seeds" (None, or
      each split's error over ``train.seeds`` copies), "error_analysis", "label_errors"
      (with its "triage" from planted flips, None when ``diagnose.label_error_plant`` is 0),
      "learning_curve", "learning_rate_range", "next_steps", "history" [, "search"]}; "data"
      holds the dev/test "target" used and "notes" on defaults that may not fit the data;
      "monitor" holds each distinct alert with the steps that raised it;
      "splits" maps each split to its domain, size, loss, error, accuracy and confusion
      matrix; "layer_histograms" holds {"first", "last"}: each layer's activation and each
      leaf's gradient histogram on the first training batch at step 0 and at the end;
      "label_errors", "learning_curve" and "learning_rate_range" are None when switched off in
      ``config.diagnose``.

    Raises:
      ValueError: a bad config, bad data, a model whose logits do not match the classes, or
        a run folder holding another config.
    """
    phases = PhaseTimes()
    splits = load_splits(config.data, UNLABELLED_TARGET if config.remedy in ADAPTATIONS else 0.0)
    unlabelled = splits.pop("target_unlabelled", None)
    tags = read_dev_tags(config.diagnose.tags_file, len(splits["dev"].data))
    if config.train.batch_size > len(splits["train"].data):
        raise ValueError(
            f"config key 'train.batch_size': expected at most the {len(splits['train'].data)} "
            f"training examples, found {config.train.batch_size}."
        )
    normalizer = fit_normalizer(splits["train"].data.x)
    raw_input_scale = input_scale_check(splits["train"].data.x).as_dict()
    # every split's inputs normalized and on the device once, shared by every phase (the
    # populations, the search, evaluation): no phase holds a copy of its own. Each split's
    # own copy is normalized in place, but the dev set's (whose worst mistakes are drawn in
    # raw), and goes to the device without a copy where it can (the CPU's aligned arrays).
    arrays = {}
    for name in list(splits):
        data = splits[name].data
        x = jax.device_put(normalize(data.x, normalizer, in_place=name != "dev"),
                           may_alias=True)
        arrays[name] = (x, data.y)
        if name != "dev":
            splits[name] = splits[name]._replace(data=dataclasses.replace(data, x=np.asarray(x)))
        del data
    train = splits["train"].data
    _check_remedy(config, train)

    source = "yours" if model is not None else "config"
    if model is None and config.model.is_entry_point:
        model = model_factory(config.model.name, "model.name")
    task = population_task(config, model, train)
    search_task = (population_task(config, model, train, dropout=True)
                   if model is None and config.model.name == "mlp" else task)
    if _is_factory(model):
        model = model(jax.random.key(config.seed))  # the baseline, at the run's seed
    if model is None:
        def make_model():
            return _built_in(config.model, tuple(train.input_shape), train.num_classes,
                             jax.random.key(config.seed))

        require_fits("model.hidden" if config.model.name == "mlp" else "model.channels",
                     parameter_bytes(lambda: nnx.state(make_model(), nnx.Param)))
        model = make_model()
    model = as_model(model)
    _check_logits(model, train)
    phases.mark("load")
    with open_run_folder(runs_dir, config.name, "run", fresh) as run_dir:  # inputs checked
        check_saved_config(run_dir, config)
        x_train, y_train = arrays["train"]
        batch = (x_train[:config.train.batch_size], y_train[:config.train.batch_size])
        loss = cross_entropy_loss(model)
        seed_key = jax.random.key(config.seed)
        dropout_key = jax.random.fold_in(seed_key, 2)
        check = gradcheck(  # the training-mode loss, its state and dropout key held fixed
            lambda p, state, x, y: loss(p, state, x, y, dropout_key)[0], model.params,
            model.state, *batch, float64=True)
        phases.mark("gradcheck")
        kinds = activation_kinds(model, batch[0])
        snapshot = jax.jit(functools.partial(layer_histograms, model, loss, kinds))
        tx = make_optimizer(config.optimizer)
        sanity = _sanity_checks(config, splits["train"], x_train, batch, loss, model, tx,
                                dropout_key)
        phases.mark("sanity")
        report = {
            "complete": False,
            "run_dir": str(run_dir),
            "config": config_to_dict(config),
            "model": {"source": source, "class": model.name, "parameters": sum(
                int(np.size(leaf)) for leaf in jax.tree.leaves(model.params))},
            "data": {
                "num_classes": train.num_classes,
                "class_names": list(train.class_names),
                "input_shape": list(train.input_shape),
                "normalizer": {"mean": normalizer.mean.tolist(), "std": normalizer.std.tolist()},
                "raw_input_scale": raw_input_scale,
                "target": target_kind(config.data.target, train),
                "notes": data_notes(config, train),
            },
            "sanity": {"checks": [c.as_dict() for c in sanity["checks"]],
                       "overfit_one_batch": sanity["overfit"].as_dict()},
            "splits": {name: {"domain": s.domain, "origin": s.data.origin, "size": len(s.data)}
                       for name, s in splits.items()},
            "gradcheck": check.as_dict(),
            "layer_histograms": {"first": _histogram_lists(
                0, snapshot(model.params, model.state, *batch, dropout_key))},
        }
        if not is_complete(run_dir):  # a rerun of a finished run keeps its report until the end
            write_atomic(run_dir / REPORT_FILE, json.dumps(report, indent=1))

        evaluator = make_evaluator(model, train.num_classes)
        result = fit(
            init_train_state(model.params, tx, model.state), make_train_step(loss, tx, dropout_key),
            arrays["train"], lambda state: {name: evaluator(state.params, state.model_state, *a)
                                            for name, a in arrays.items()},
            config.train, run_dir, key=jax.random.fold_in(seed_key, 1),
            monitored_step=make_monitored_train_step(model, kinds, tx, dropout_key), kinds=kinds,
            progress=progress)
        phases.mark("train")

        final = result.state
        dev_probabilities = _save_predictions(run_dir / PREDICTIONS_FILE, make_block_predictor(
            model), final, arrays, train.num_classes)
        phases.mark("predict")
        errors = {name: evaluation.error for name, evaluation in result.final.items()}
        uncertainty = _uncertainty(config, result.final)
        seeds = seed_spread(config, task, arrays, progress)
        phases.mark("seeds")
        remedy = None if not config.remedy else measure_remedy(
            config, task, arrays, train.num_classes, None if unlabelled is None
            else normalize(unlabelled.data.x, normalizer), progress)
        phases.mark("remedy")
        decomposition = bias_variance(config.human_error, errors["train"], errors["dev"],
                                      errors["train_dev"], errors["test"],
                                      intervals=uncertainty["gaps"])
        steps_logged, losses_logged = zip(*result.history.train_loss, strict=True)
        curve = loss_curve_pathologies(np.array(steps_logged), np.array(losses_logged),
                                       initial_loss=sanity["overfit"].initial_loss)
        evaluations = result.history.eval
        overfitting = overfitting_from_curves(
            [e["step"] for e in evaluations], [e["train"]["loss"] for e in evaluations],
            [e["dev"]["loss"] for e in evaluations])
        analysis = _error_analysis(config, splits["dev"], tags, dev_probabilities,
                                   result.final["dev"], run_dir)
        phases.mark("error_analysis")
        suspects, triage, lc = _data_diagnoses(config, arrays, train.num_classes, task, progress,
                                               phases)
        lr_range = learning_rate_range(
            task, Data(*arrays["train"], *arrays["dev"]), steps=config.diagnose.lr_range_steps,
            batch_size=config.train.batch_size, seed=config.seed,
            progress="learning-rate range" if progress else None) if config.diagnose.lr_range \
            else None
        phases.mark("lr_range")
        search = random_search(config, run_dir, progress, search_task,
                               Data(*arrays["train"], *arrays["dev"])) if config.search.trials \
            else None
        phases.mark("search")
        chance = chance_level_check("train_dev", errors["train_dev"], arrays["train_dev"][1],
                                    y_train, train.num_classes, train_error=errors["train"])
        checks = [*sanity["checks"], chance]
        recommended = next_steps(
            decomposition, gradcheck_ok=check.ok, sanity=checks,
            overfit=sanity["overfit"], curve=curve, learning_curve=lc,
            suspected_label_errors=0.0 if suspects is None else len(suspects.indices) / len(train),
            label_triage=triage,
            search_best=None if search is None or search["best"] is None
            else {**search["best"], "model": search["model"]}, overfitting=overfitting,
            learning_rate=None if lr_range is None else (config.optimizer.learning_rate,
                                                         lr_range.pick),
            remedy=remedy, search_min_gain=max(uncertainty["dev_significant_gain"],
                                0.0 if seeds is None else 2 * seeds["std"]["dev"]))
        report["layer_histograms"]["last"] = _histogram_lists(
            int(final.step), snapshot(final.params, final.model_state, *batch, dropout_key))
        report["sanity"]["checks"] = [c.as_dict() for c in checks]
        report.update({
            "training": {
                "steps_done": int(result.state.step),
                "resumed_from": result.resumed_from,
                "diverged_at": result.history.diverged_at,
                "stopped": result.history.stopped,
                "best_step": result.history.best_step,
            },
            "splits": {
                name: {**report["splits"][name], **evaluation.as_dict(),
                       "confusion": evaluation.confusion.tolist()}
                for name, evaluation in result.final.items()
            },
            "bias_variance": decomposition.as_dict(),
            "uncertainty": uncertainty,
            "seeds": seeds,
            "remedy": None if remedy is None else {
                **remedy.as_dict(), "model": task.name,
                "unlabelled_target": None if unlabelled is None else len(unlabelled.data),
                "gaps": {
                    side: bias_variance(config.human_error, e["train"], e["dev"],
                                        e["train_dev"], e["test"]).gaps
                    for side, e in (("before", remedy.before), ("after", remedy.after))}},
            "monitor": {"activation_kinds": kinds, "every": config.train.log_every,
                        "alerts": distinct_alerts(result.history.monitor)},
            "loss_curve": [f.as_dict() for f in curve],
            "overfitting": None if overfitting is None else overfitting.as_dict(),
            "error_analysis": analysis,
            "label_errors": None if suspects is None else {
                "model": task.name, "share": len(suspects.indices) / len(train),
                **suspects.as_dict(), "triage": None if triage is None else triage.as_dict()},
            "learning_curve": None if lc is None else {"model": task.name, **lc.as_dict()},
            "learning_rate_range": None if lr_range is None else {
                "model": task.name, "configured": config.optimizer.learning_rate,
                **lr_range.as_dict()},
            "next_steps": [s._asdict() for s in recommended],
            "history": result.history.as_dict(),
        })
        if search is not None:
            report["search"] = search
        phases.mark("report")
        report["phases"] = phases.as_dict()
        report["complete"] = True
        write_atomic(run_dir / REPORT_FILE, json.dumps(report, indent=1))
        return report


def data_notes(config: RunConfig, train) -> list[str]:
    """What the report must say about defaults chosen for digits that may not fit these data
    (the dev/test domain "auto" picked for tabular inputs, a default human-level error) and
    about the training examples a domain-adaptation remedy holds out."""
    notes = []
    if config.data.target == "auto" and target_kind("auto", train) == "source":
        notes.append(
            f"data.target is 'auto' and the inputs are tabular (shape {tuple(train.input_shape)}):"
            " dev and test are held-out source examples, with no synthetic shift (its blur, "
            "contrast and noise imitate a worse camera, for images). To measure data mismatch, "
            "set data.target to a .npz or .csv file of target-domain examples.")
    if config.remedy in ADAPTATIONS:
        notes.append(
            f"remedy '{config.remedy}' adapts to the target's unlabelled inputs: a quarter of the "
            "training examples, shifted like dev and test, is held out of train for them, so "
            "every model of this run (the baseline too) trains on the other three quarters.")
    if config.human_error == RunConfig.human_error and config.data.source != "digits":
        notes.append(
            f"human_error is the default {RunConfig.human_error:.1%}, a guess made for the "
            "digits, not for these data: the avoidable bias (train - human) reads from it. Set "
            "the error of a human expert or of the best known system, e.g. jaxdiag run --set "
            "human_error=0.05.")
    return notes


def _uncertainty(config: RunConfig, final: dict[str, Evaluation]) -> dict:
    """``error_intervals`` of every split of the final model (Wilson per split, bootstrap per
    gap, one compiled call), its mistakes read off each split's confusion matrix, with the
    dev set's resolution: the smallest difference it detects (95% confidence, 80% power) and
    the smallest measured gain that is significant."""
    sizes = {name: int(e.confusion.sum()) for name, e in final.items()}
    mistakes = {name: sizes[name] - int(np.trace(e.confusion)) for name, e in final.items()}
    result = error_intervals(mistakes, sizes, config.human_error, seed=config.seed).as_dict()
    n, error = sizes["dev"], mistakes["dev"] / sizes["dev"]
    return {**result, "dev_resolution": dev_set_resolution(n, error),
            "dev_significant_gain": dev_set_resolution(n, error, power=0.5)}


def seed_spread(config: RunConfig, task: Task, arrays: dict, progress: bool) -> dict | None:
    """``config.train.seeds`` copies of the baseline (``task`` at the run's optimizer
    hyperparameters and steps) trained as one population, member s seeded ``config.seed *
    1000 + s``; None for fewer than 2 seeds.

    Returns:
      {"seeds": S, "errors": {split: [S errors]}, "mean": {split: float}, "std": {split: the
      standard deviation over seeds, ddof 1}}.
    """
    count = config.train.seeds
    if count < 2:
        return None
    x, y = arrays["train"]
    _, result = train_on_subsets(
        x, y, np.ones((count, len(y)), bool), task, dev=arrays["dev"], steps=config.train.steps,
        batch_size=config.train.batch_size, learning_rate=config.optimizer.learning_rate,
        weight_decay=config.optimizer.weight_decay, seed=config.seed,
        progress="seeds" if progress else None)
    errors = member_errors(task, result, arrays)
    return {"seeds": count, "errors": {k: v.tolist() for k, v in errors.items()},
            "mean": {k: float(v.mean()) for k, v in errors.items()},
            "std": {k: float(v.std(ddof=1)) for k, v in errors.items()}}


def _check_remedy(config: RunConfig, train) -> None:
    """Raises a ValueError for a remedy these data cannot take: synthesis imitates the built-in
    shift of images."""
    if config.remedy == "synthesis" and target_kind(config.data.target, train) != "shift":
        raise ValueError(
            f"config key 'remedy': 'synthesis' imitates the built-in shift of images "
            f"(data.target 'shift' on inputs of shape (h, w, c)), found data.target "
            f"{config.data.target!r} on inputs of shape {tuple(train.input_shape)}.")


def measure_remedy(config: RunConfig, task: Task, arrays: dict, num_classes: int,
                   unlabelled: np.ndarray | None, progress: bool) -> RemedyEffect:
    """``config.remedy`` against the model as it is: ``remedy_effect`` of ``task`` with it, at
    the run's optimizer, steps and batch size, ``max(train.seeds, 3)`` seeds per weight."""
    x, y = arrays["train"]
    remedy = RemedyTask(task, config.remedy, tuple(x.shape[1:]), shift=DomainShift(
        config.data.blur_sigma, config.data.contrast, config.data.noise_std),
        class_weights=inverse_frequency_weights(y, num_classes), num_classes=num_classes)
    return remedy_effect(
        remedy, Data(x, y, *arrays["dev"], unlabelled), arrays,
        weights=config.remedy_weights or REMEDY_WEIGHTS[config.remedy],
        seeds=max(config.train.seeds, 3), steps=config.train.steps,
        batch_size=config.train.batch_size, learning_rate=config.optimizer.learning_rate,
        weight_decay=config.optimizer.weight_decay, seed=config.seed,
        progress=f"remedy {config.remedy}" if progress else None)


def _check_logits(model: Model, train) -> None:
    """Raises a ValueError unless the model maps a batch of ``train`` to (batch, classes)."""
    x = jax.ShapeDtypeStruct((2, *train.input_shape), np.float32)
    try:
        shape = jax.eval_shape(model.logits, model.params, model.state, x).shape
    except Exception as e:  # the user's model, on the data's input shape
        raise ValueError(f"model: could not apply it to inputs of shape (batch, "
                         f"{', '.join(map(str, train.input_shape))}): {e}") from e
    if shape != (2, train.num_classes):
        raise ValueError(f"model: expected logits of shape (batch, {train.num_classes}) for the "
                         f"{train.num_classes} classes, found {shape} for a batch of 2.")


def is_complete(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds the report of a finished main job. A damaged ``report.json``
    (a kill mid-write by an older version, a full disk) is set aside with a warning: the
    job writes it anew."""
    path = Path(run_dir) / REPORT_FILE
    if not path.is_file():
        return False
    try:
        return json.loads(path.read_text()).get("complete") is True
    except (ValueError, UnicodeDecodeError, AttributeError) as e:
        aside = set_aside(path)
        warnings.warn(f"{path}: damaged ({type(e).__name__}); set aside as {aside.name}, "
                      "the run writes it anew.", stacklevel=2)
        return False


def _histogram_lists(step: int, histograms: dict) -> dict:
    """``layer_histograms``' arrays as JSON lists: {"step", kind: {name: {"counts", "edges"}}}."""
    return {"step": step, **{
        kind: {name: {"counts": np.asarray(c).tolist(), "edges": np.asarray(e).tolist()}
               for name, (c, e) in by_name.items()}
        for kind, by_name in histograms.items()}}


def _save_predictions(path: Path, predict: Callable, state: TrainState, arrays: dict,
                      num_classes: int) -> np.ndarray:
    """Each split's labels ``<split>_y`` and float32 probabilities ``<split>_probabilities``
    (n, C) in one ``.npz``, written atomically a block of rows at a time as ``predict``
    (``make_block_predictor``) computes them; returns the dev split's probabilities."""
    dev: list[np.ndarray] = []

    def blocks(name: str, x) -> Iterator[np.ndarray]:
        for block in predict(state.params, state.model_state, x):
            if name == "dev":
                dev.append(block)
            yield block

    write_npz_atomic(path, {
        **{f"{name}_probabilities": RowBlocks((len(x), num_classes), np.float32, blocks(name, x))
           for name, (x, _) in arrays.items()},
        **{f"{name}_y": np.asarray(y) for name, (_, y) in arrays.items()}})
    return np.concatenate(dev)


def _sanity_checks(config: RunConfig, train: Split, x_train: np.ndarray, batch: tuple,
                   loss: LossFn, model: Model, tx, key: jax.Array) -> dict:
    """Labels, input scale (as the model sees them), initial loss of the model in training
    mode (dropout from ``key``), overfit one batch."""
    num_classes = train.data.num_classes
    initial = float(loss(model.params, model.state, *batch, key)[0])
    checks = [label_check(train.data.y, num_classes), input_scale_check(x_train),
              initial_loss_check(initial, num_classes)]
    overfit = overfit_one_batch(make_train_step(loss, tx, key),
                                init_train_state(model.params, tx, model.state), *batch,
                                steps=config.diagnose.overfit_steps,
                                target_loss=config.diagnose.overfit_target_loss)
    return {"checks": checks, "overfit": overfit}


def _error_analysis(config: RunConfig, dev: Split, tags: dict[str, np.ndarray],
                    probabilities: np.ndarray, evaluation: Evaluation, run_dir: Path) -> dict:
    """The dev set's worst mistakes (drawn when inputs are images), costly confusions, the
    ceiling of fixing each true class's mistakes and each user tag's (``tags``)."""
    names = dev.data.class_names
    y = dev.data.y
    worst = worst_mistakes(y, probabilities, config.diagnose.worst_mistakes)
    predicted = np.argmax(probabilities, axis=1)
    per_class = {f"true class {name}": y == c for c, name in enumerate(names)}
    figure = None
    if dev.data.x.ndim == 4 and len(worst.indices):
        figure = str(save_image_grid(
            run_dir / WORST_MISTAKES_FILE, dev.data.x[worst.indices],
            [f"#{i}: {names[t]}→{names[p]} {c:.0%}" for i, t, p, c in zip(*worst, strict=True)],
            title="dev: most confident mistakes (index: true→predicted, confidence)"))
    return {"split": "dev", "worst_mistakes": worst.as_dict(), "worst_mistakes_png": figure,
            "confusions": costly_confusions(evaluation.confusion, names),
            "categories": error_categories(y, predicted, per_class),
            "tags": error_categories(y, predicted, tags)}


def population_task(config: RunConfig, model: Any, train, dropout: bool = False) -> Task:
    """The model the job's populations train: ``model`` (a model, or a factory ``key ->
    model``) as a ``ModelTask``; else the configured built-in model (the MLP, with a dropout
    rate traced per member when ``dropout``; the CNN), each member from its own key."""
    optimizer = config.optimizer.name
    if model is not None:
        return (ModelTask(factory=model, optimizer=optimizer) if _is_factory(model)
                else ModelTask(model=model, optimizer=optimizer))
    if config.model.name == "mlp":
        return mlp_task(tuple(train.input_shape), train.num_classes,
                        hidden=config.model.hidden, optimizer=optimizer,
                        activation=config.model.activation, dropout=dropout)
    return ModelTask(factory=functools.partial(
        _built_in, config.model, tuple(train.input_shape), train.num_classes),
        optimizer=optimizer)


def _is_factory(model: Any) -> bool:
    """Whether ``model`` is a factory ``key -> model`` rather than a model (an NNX module is
    callable too, as is a Model; pairs are tuples)."""
    return callable(model) and not isinstance(model, nnx.Module | tuple | Model)


def _built_in(config: ModelConfig, input_shape: tuple, num_classes: int,
              key: jax.Array) -> nnx.Module:
    return build_model(config.name, input_shape, num_classes, hidden=config.hidden,
                       channels=config.channels, activation_name=config.activation, seed=key)


def _data_diagnoses(config: RunConfig, arrays: dict, num_classes: int, task: Task,
                    progress: bool, phases: PhaseTimes) -> tuple:
    """Suspected label errors in the training split (with their triage: the same folds on a
    copy with planted flips) and the learning curve, each trained as one population of
    ``task`` (with a progress bar when ``progress``; each a phase of ``phases``); None where
    switched off."""
    settings = config.diagnose
    x, y = arrays["train"]
    shape = {"task": task, "steps": settings.population_steps, "seed": config.seed,
             "batch_size": config.train.batch_size}
    suspects = triage = lc = None
    if settings.label_errors:
        def suspected(labels: np.ndarray, label: str) -> LabelErrors:
            return find_label_errors(labels, cross_validated_probabilities(
                x, labels, num_classes, folds=settings.label_error_folds, **shape,
                progress=label if progress else None))
        suspects = suspected(y, "label-error folds")
        count = round(settings.label_error_plant * len(y))
        if count:
            flipped, planted = plant_label_flips(y, num_classes, count, seed=config.seed)
            triage = triage_label_errors(
                suspects, suspected(flipped, "label-error folds, planted flips"), planted,
                len(y), error_rate=settings.label_error_rate or None)
        phases.mark("label_errors")
    if settings.learning_curve:
        lc = learning_curve(x, y, *arrays["dev"], num_classes, **shape,
                            progress="learning curve" if progress else None)
        phases.mark("learning_curve")
    return suspects, triage, lc


def random_search(config: RunConfig, run_dir: Path, progress: bool, task: Task,
                  data: Data) -> dict:
    """The optional random search of ``config.search``, as a resumable sweep in
    ``run_dir/search``: one vmap population of ``task``'s model, learning rate and weight
    decay drawn at random (and dropout, for the built-in MLP, whose rate is traced), on the
    run's normalized training and dev arrays ``data``.

    Returns:
      The sweep summary (the model, best trial, leaderboard) and the space searched.
    """
    adam = config.optimizer.name in ("adam", "adamw")
    low, high = (1e-4, 1e-1) if adam else (1e-3, 1.0)
    space_values = {
        "learning_rate": {"type": "log_uniform", "low": low, "high": high},
        "weight_decay": {"type": "log_uniform", "low": 1e-6, "high": 1e-2},
        "dropout": {"type": "uniform", "low": 0.0, "high": 0.5},
    }
    space_values = {k: v for k, v in space_values.items() if k in task.traced_hparams}
    sweep = SweepConfig(
        name="search", sampler="random", seed=config.seed, populations=1,
        population_size=config.search.trials, data=config.data, model=config.model,
        optimizer=config.optimizer,
        train=dataclasses.replace(config.train, steps=config.search.steps))
    # the class trained, which the model section does not say for a model given in Python
    resolved = {**config_to_dict(sweep), "space": space_values, "trained_model": task.name}
    summary = run_sweep(sweep, space_from_dict(space_values), resolved, run_dir,
                        progress=progress, task=task, data=data)
    return {"space": space_values, "steps": config.search.steps, **summary}
