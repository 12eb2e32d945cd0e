"""The sections of a run's report, in the methodology's order: what each shows and draws.

Every section is built from the run folder's own data (``report.json``, ``predictions.npz``,
the search's trial store). A section whose data the run has not reached yet (a killed run) or
that its config switched off says so, and what to do, instead of drawing anything.
"""

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
from matplotlib.figure import Figure

from jaxdiag.experiment.history import History
from jaxdiag.report.error_plots import draw_bias_variance, draw_confusion, draw_learning_curve
from jaxdiag.report.figure_file import FigureWriter
from jaxdiag.report.html_page import Html, Section, join, markup, table_html
from jaxdiag.report.score_plots import draw_pr_roc, draw_reliability, draw_risk_coverage
from jaxdiag.report.search_plots import draw_hyperparameter_scatter, draw_learning_rate_range
from jaxdiag.report.text_summary import ONE_SEED
from jaxdiag.report.training_plots import draw_layer_histograms, draw_loss_curves

SCORED_SPLIT = "dev"  # the curves and the confusion matrix are of the dev set


class RunData(NamedTuple):
    """What the sections are built from.

    Attributes:
      report: ``load_run_report``'s dict.
      predictions: {split: (labels (n,), probabilities (n, C))}, {} before the run finished.
      trials: the search's trials, [] when there was none.
      figures_dir: where the PNGs go.
      figures: what writes them.
    """

    report: dict
    predictions: dict[str, tuple[np.ndarray, np.ndarray]]
    trials: list[dict]
    figures_dir: Path
    figures: FigureWriter


Built = tuple[Section, dict]  # the section and the numbers it shows, for report.json


def build_sections(run: RunData) -> list[Built]:
    """Every section of the report, in order, each with its summary numbers."""
    return [builder(run) for builder in SECTIONS]


def _pct(value: float | None, signed: bool = False) -> str:
    return "n/a" if value is None else f"{value:+.2%}" if signed else f"{value:.2%}"


def _save(run: RunData, name: str, figure: Figure) -> Path:
    return run.figures.save(figure, run.figures_dir / f"{name}.png")


def _not_reached(run: RunData, section_id: str, title: str) -> Built:
    training = run.report.get("training", {})
    run_dir = run.report["run_dir"]
    body = markup('<p class="note">Not reached: the run stopped at step {} of {} before this '
                  "was computed. <code>jaxdiag run --config {}/config.toml</code> resumes it "
                  "and renders the whole report.</p>", training.get("steps_done", 0),
                  run.report["config"]["train"]["steps"], run_dir)
    return Section(section_id, title, "not reached", body), {}


def _switched_off(section_id: str, title: str, key: str) -> Built:
    body = markup('<p class="note">Switched off in this run\'s config: set <code>{0}</code> '
                  "(for example <code>jaxdiag run --set {0}=...</code>) to get it.</p>", key)
    return Section(section_id, title, "switched off", body), {}


def _splits(run: RunData) -> Built:
    title = "Data splits"
    splits = run.report["splits"]
    scored = "error" in next(iter(splits.values()))
    uncertainty = run.report.get("uncertainty")  # absent before the run finished
    level = f"{uncertainty['confidence']:.0%} interval" if uncertainty else ""
    seeds = run.report.get("seeds")
    header = ["split", "domain", "examples",
              *(["loss", "error", level, "accuracy"] if uncertainty else
                ["loss", "error", "accuracy"] if scored else []),
              *([f"error over {seeds['seeds']} seeds"] if seeds else [])]
    rows = [[name, s["domain"], s["size"],
             *([f"{s['loss']:.4f}", _pct(s["error"])] if scored else []),
             *([_interval(uncertainty["splits"][name]["wilson"])] if uncertainty else []),
             *([_pct(s["accuracy"])] if scored else []),
             *([f"{_pct(seeds['mean'][name])} ± {_pct(seeds['std'][name])}"] if seeds else [])]
            for name, s in splits.items()]
    data = run.report["data"]
    resolution = markup(
        "<p>Intervals are Wilson's, at {} confidence. With {} dev examples at {} error, the dev "
        "set detects a difference between two models of <b>{}</b> (80% power); a measured gain "
        "below {} is not significant (Ng: size the dev set to detect the differences you care "
        "about).{}</p>", f"{uncertainty['confidence']:.0%}",
        uncertainty["splits"]["dev"]["size"], _pct(uncertainty["splits"]["dev"]["error"]),
        _pct(uncertainty["dev_resolution"]), _pct(uncertainty["dev_significant_gain"]),
        "" if seeds else f" {ONE_SEED[0].upper()}{ONE_SEED[1:]}."
    ) if uncertainty else ""
    body = markup("<p>{} classes, inputs of shape {}. train and train-dev come from the source "
                  "domain; dev and test from the target domain the model will meet. train-dev "
                  "separates variance (train → train-dev) from data mismatch (train-dev → "
                  "dev).</p>{}{}{}", data["num_classes"], tuple(data["input_shape"]),
                  join(markup('<p class="note">{}</p>', note) for note in data.get("notes", ())),
                  table_html(header, rows), resolution)
    return Section("splits", title, "shown", body), {
        name: {"size": s["size"], "domain": s["domain"]} for name, s in splits.items()}


def _sanity(run: RunData) -> Built:
    sanity, check = run.report["sanity"], run.report["gradcheck"]
    overfit = sanity["overfit_one_batch"]
    rows = [[c["name"].replace("_", " "), "ok" if c["ok"] else "FAILED",
             c["message"] + ("" if c["ok"] else f" — likely: {'; '.join(c['causes'][:2])}")]
            for c in sanity["checks"]]
    rows.append(["overfit one batch", "ok" if overfit["passed"] else "FAILED",
                 f"loss {overfit['initial_loss']:.3g} → {overfit['final_loss']:.3g}"
                 + (f", below target at step {overfit['steps_to_target']}"
                    if overfit["steps_to_target"] is not None else "")
                 + "".join(f"; {f['kind']}: {f['evidence']}" for f in overfit["findings"])])
    rows.append(["gradient check", "ok" if check["ok"] else "FAILED",
                 f"{check['dtype']}, worst relative error {check['worst_relative_error']:.1e} "
                 f"at {check['worst_leaf']}"
                 + (f"; failed leaves: {', '.join(check['failed'])}" if check["failed"] else "")])
    body = markup("<p>Before training: are the labels and inputs sane, does the initial loss "
                  "match ln(C), can the model drive the loss of one batch to zero, and do the "
                  "analytic gradients match finite differences?</p>{}",
                  table_html(["check", "result", "what"], rows))
    passed = all(c["ok"] for c in sanity["checks"]) and overfit["passed"] and check["ok"]
    return Section("sanity", "Sanity checks", "shown", body), {"all_passed": passed}


def _loss_curves(run: RunData) -> Built:
    title = "Loss curves"
    history = History.from_dict(run.report["history"])
    if not history.train_loss:
        return _not_reached(run, "loss_curves", title)
    findings = run.report["loss_curve"]
    path = _save(run, "loss_curves", draw_loss_curves(history, findings))
    items = join(markup("<li><b>{}</b> at step {}: {}; likely {}</li>",
                        f["kind"].replace("_", " "), f["step"], f["evidence"],
                        "; ".join(f["causes"][:2])) for f in findings)
    diverged = history.diverged_at
    overfitting = run.report.get("overfitting")  # absent from reports of killed runs
    body = join([
        markup('<p class="bad">Training diverged (NaN/Inf loss) at step {}.</p>', diverged)
        if diverged is not None else "",
        markup("<p>Pathologies found in the training loss (dashed red lines):</p><ul>{}</ul>",
               items) if findings else
        Html('<p class="ok">No pathology found in the training loss (no explosion, plateau '
             "or oscillation).</p>"),
        markup('<p class="bad">Overfitting: {}.</p>', overfitting["message"]) if overfitting
        else Html('<p class="ok">No overfitting signature: the dev loss did not turn up while '
                  "the training loss fell.</p>")])
    return Section("loss_curves", title, "shown", body, (path,)), {
        "pathologies": [f["kind"] for f in findings], "diverged_at": diverged,
        "overfitting_best_step": overfitting["best_step"] if overfitting else None}


def _bias_variance(run: RunData) -> Built:
    title = "Bias, variance and data mismatch"
    decomposition = run.report.get("bias_variance")
    if decomposition is None:
        return _not_reached(run, "bias_variance", title)
    uncertainty = run.report.get("uncertainty")
    path = _save(run, "bias_variance", draw_bias_variance(
        decomposition, uncertainty["splits"] if uncertainty else None))
    dominant = decomposition["dominant"]
    actions = join(markup("<li>{}</li>", a) for a in decomposition["actions"])
    intervals = decomposition.get("intervals")
    rows = [[gap.replace("_", " "), f"{100 * value:+.2f}",
             _interval(intervals[gap], points=True) if intervals else "",
             ("significant" if decomposition["significant"][gap] else "not significant")
             if intervals else ""]
            for gap, value in decomposition["gaps"].items() if value is not None]
    table = table_html(["gap", "points", f"{uncertainty['confidence']:.0%} bootstrap interval",
                        "verdict"], rows) if intervals else ""
    body = markup("<p>Human-level error {} stands in for the Bayes error. {}{}",
                  _pct(decomposition["errors"]["human"]),
                  markup("The largest significant gap is <b>{}</b>; its remedies:</p><ul>{}</ul>",
                         dominant.replace("_", " "), actions) if dominant
                  else Html("No gap is significant and above tolerance: the splits are too "
                            "small to tell, or the model is as good as the data allow.</p>"),
                  table)
    remedy = run.report.get("remedy")
    if remedy:
        body = markup("{}{}", body, _remedy_html(remedy))
    return Section("bias_variance", title, "shown", body, (path,)), {"dominant": dominant}


def _remedy_html(remedy: dict) -> Html:
    """The remedy measured against the model as it is: each split's error and each gap, mean
    over the seeds, at weight 0 and at the weight picked on dev."""
    before, after = remedy["before"], remedy["after"]
    rows = [[name, _pct(before[name]), _pct(after[name]),
             f"{100 * (after[name] - before[name]):+.2f}"] for name in before]
    rows += [[gap.replace("_", " ") + " (gap)", f"{100 * b:+.2f}", f"{100 * a:+.2f}",
              f"{100 * (a - b):+.2f}"]
             for (gap, b), a in zip(remedy["gaps"]["before"].items(),
                                    remedy["gaps"]["after"].values(), strict=True)
             if b is not None and a is not None]
    return markup("<h3>Remedy: {}</h3><p>{}. {} seeds per weight of {}, weights {} tried (0 is the "
                  "model as it is), all in one population.</p>{}", remedy["remedy"],
                  remedy["message"], remedy["seeds"], remedy.get("model", "the model"),
                  ", ".join(f"{w:g}" for w in remedy["weights"]),
                  table_html(["split or gap", "without", f"with (weight {remedy['picked']:g})",
                              "change (points)"], rows))


def _interval(interval: list[float], points: bool = False) -> str:
    """"[low, high]" in percent (or, for a gap, in percentage points)."""
    low, high = (100 * v for v in interval)
    return f"[{low:+.2f}, {high:+.2f}]" if points else f"[{low:.2f}%, {high:.2f}%]"


def _scored(run: RunData, section_id: str, title: str,
            draw: Callable[[np.ndarray, np.ndarray], tuple[Figure, dict]], text: str) -> Built:
    if SCORED_SPLIT not in run.predictions:
        return _not_reached(run, section_id, title)
    figure, summary = draw(*run.predictions[SCORED_SPLIT])
    path = _save(run, section_id, figure)
    return Section(section_id, title, "shown", markup("<p>{}</p>", text), (path,)), summary


def _pr_roc(run: RunData) -> Built:
    names = run.report["data"]["class_names"]
    return _scored(run, "pr_roc", "Precision-recall and ROC curves",
                   lambda y, p: draw_pr_roc(y, p, names, SCORED_SPLIT),
                   "Each class against the rest on the dev set, from the predicted "
                   "probabilities; the thick black curve pools every class (micro average).")


def _risk_coverage(run: RunData) -> Built:
    return _scored(run, "risk_coverage", "Risk against coverage",
                   lambda y, p: draw_risk_coverage(y, p, SCORED_SPLIT),
                   "If the system may abstain when unsure, how accurate is it on what it "
                   "answers? The red point is the accuracy at 95% coverage.")


def _reliability(run: RunData) -> Built:
    return _scored(run, "reliability", "Calibration: reliability diagram",
                   lambda y, p: draw_reliability(y, p, SCORED_SPLIT),
                   "Do confidences mean what they say? Bars below the diagonal are "
                   "over-confident bins; the lower panel shows where the examples are.")


def _confusion(run: RunData) -> Built:
    title = "Confusion matrix"
    split = run.report["splits"][SCORED_SPLIT]
    if "confusion" not in split:
        return _not_reached(run, "confusion", title)
    path = _save(run, "confusion", draw_confusion(split["confusion"],
                                                  run.report["data"]["class_names"],
                                                  SCORED_SPLIT))
    return Section("confusion", title, "shown",
                   Html("<p>Rows are true classes, columns predictions; off-diagonal counts "
                        "are in red.</p>"), (path,)), {}


def _error_analysis(run: RunData) -> Built:
    title = "Error analysis: the worst mistakes"
    analysis = run.report.get("error_analysis")
    if analysis is None:
        return _not_reached(run, "error_analysis", title)
    names = run.report["data"]["class_names"]
    worst = analysis["worst_mistakes"]
    figures: tuple[Path, ...] = ()
    if analysis["worst_mistakes_png"]:  # beside report.json, wherever the folder now is
        figures = (run.figures_dir.parent / Path(analysis["worst_mistakes_png"]).name,)
    confusions = table_html(
        ["true", "predicted", "count", "share of errors", "ceiling (dev error saved)"],
        [[c["true"], c["predicted"], c["count"], _pct(c["share_of_errors"]), _pct(c["ceiling"])]
         for c in analysis["confusions"][:8]])
    categories = table_html(
        ["category", "errors", "share of errors", "ceiling"],
        [[c["category"], c["errors"], _pct(c["share_of_errors"]), _pct(c["ceiling"])]
         for c in [*analysis["tags"], *analysis["categories"][:5]]])
    listed = "" if figures else markup(
        " (inputs are not images, so they are listed, not drawn): {}",
        ", ".join(f"#{w['index']} {names[w['true']]}→{names[w['predicted']]}" for w in worst))
    body = markup("<p>The {} dev mistakes made with the highest confidence{}. Look at them "
                  "first: they show label noise, a missing feature or a shift.</p>"
                  "<h3>Costliest confusions</h3>{}<h3>Ceilings: the most the dev error can "
                  "fall by fixing one kind of error</h3>{}{}", len(worst), listed, confusions,
                  categories, _label_errors_html(run.report.get("label_errors")))
    return Section("error_analysis", title, "shown", body, figures), {
        "worst_mistakes": len(worst)}


def _label_errors_html(label_errors: dict | None) -> Html:
    if label_errors is None:
        return Html("<p>Label-error search switched off (<code>diagnose.label_errors</code>)."
                    "</p>")
    suspects = label_errors["suspects"]
    triage = label_errors.get("triage")
    return markup("<h3>Suspected label errors in train (confident learning)</h3><p>{} training "
                  "labels ({:.1%}) look wrong to cross-validated {} models{}.</p>{}",
                  label_errors["count"], label_errors["share"],
                  label_errors.get("model", "MLP"),
                  "" if triage is None else f"; {triage['message']}", table_html(
                      ["train index", "given", "suggested", "self-confidence"],
                      [[s["index"], s["given"], s["suggested"], f"{s['self_confidence']:.2g}"]
                       for s in suspects[:10]]))


def _histograms(run: RunData) -> Built:
    title = "Activation and gradient histograms"
    snapshots = [run.report["layer_histograms"][k] for k in ("first", "last")
                 if k in run.report["layer_histograms"]]
    figures = tuple(_save(run, f"{kind[:-1]}_histograms", draw_layer_histograms(snapshots, kind))
                    for kind in ("activations", "gradients") if snapshots[0][kind])
    monitor = run.report.get("monitor")
    alerts = monitor["alerts"] if monitor else []
    intro = markup("<p>Each layer's activations (after its activation function) and each "
                   "parameter's gradient on the first training batch, at {}. Watch for a spike "
                   "at zero after a ReLU (dead units), mass piled at ±1 after a tanh "
                   "(saturation) and gradients orders of magnitude apart between layers.{}</p>",
                   " and at ".join(f"step {s['step']}" for s in snapshots),
                   "" if snapshots[0]["activations"] else " This model is a plain function, so "
                   "its layers are not visible: only its gradients are drawn.")
    if monitor is None:
        alerts_html = Html("<p>Monitor alerts: not reached (the run stopped before the end).</p>")
    elif alerts:
        alerts_html = markup("<h3>Monitor alerts during training</h3>{}", table_html(
            ["alert", "where", "value", "steps", "likely cause"],
            [[a["kind"], a["where"], f"{a['value']:.3g}", f"{a['first_step']}-{a['last_step']}",
              a["cause"]] for a in alerts]))
    else:
        alerts_html = markup('<p class="ok">The monitor (every {} steps) raised no alert.</p>',
                             monitor["every"])
    body = join([intro, alerts_html])
    return Section("histograms", title, "shown", body, figures), {
        "steps": [s["step"] for s in snapshots], "alerts": len(alerts)}


def _learning_curve(run: RunData) -> Built:
    title = "Learning curve"
    if not run.report["config"]["diagnose"]["learning_curve"]:
        return _switched_off("learning_curve", title, "diagnose.learning_curve")
    curve = run.report.get("learning_curve")
    if curve is None:
        return _not_reached(run, "learning_curve", title)
    path = _save(run, "learning_curve",
                 draw_learning_curve(curve, run.report["config"]["human_error"]))
    return Section("learning_curve", title, "shown",
                   markup("<p>{} models trained on growing fractions of train: {}</p>",
                          curve.get("model", "MLP"), curve["message"]), (path,)), {
        "more_data_helps": curve["more_data_helps"], "at_double": curve["at_double"]}


def _learning_rate_range(run: RunData) -> Built:
    title = "Learning-rate range test"
    if not run.report["config"]["diagnose"].get("lr_range", False):
        return _switched_off("learning_rate_range", title, "diagnose.lr_range")
    lr_range = run.report.get("learning_rate_range")
    if lr_range is None:
        return _not_reached(run, "learning_rate_range", title)
    path = _save(run, "learning_rate_range", draw_learning_rate_range(lr_range))
    seeds = len(lr_range["final_loss"][0])
    body = markup(
        "<p>{} {} models, {} learning rates x {} seeds, each trained {} steps in one "
        "population. The pick, {}, has the lowest mean final {} plus its spread over seeds "
        "(a rate that diverges for any seed is never picked); the run used {}.</p>",
        len(lr_range["final_loss"]) * seeds, lr_range["model"], len(lr_range["final_loss"]),
        seeds, lr_range["steps"], f"{lr_range['pick']:.2g}",
        lr_range["criterion"].replace("_", " "), f"{lr_range['configured']:.2g}")
    return Section("learning_rate_range", title, "shown", body, (path,)), {
        "pick": lr_range["pick"], "configured": lr_range["configured"]}


def _search(run: RunData) -> Built:
    title = "Hyperparameter search"
    if run.report["config"]["search"]["trials"] == 0:
        return _switched_off("search", title, "search.trials")
    search = run.report.get("search")
    if search is None:
        return _not_reached(run, "search", title)
    names = list(search["space"])
    leaderboard = table_html(
        ["rank", "trial", *names, "dev error", "dev loss"],
        [[rank, t["id"], *(f"{t['hparams'][n]:.3g}" if isinstance(t["hparams"][n], float)
                           else t["hparams"][n] for n in names),
          _pct(t["dev_error"]), f"{t['dev_loss']:.4f}"]
         for rank, t in enumerate(search["leaderboard"], 1)])
    figures = ()
    if run.trials:
        figures = (_save(run, "search", draw_hyperparameter_scatter(run.trials,
                                                                    search["space"])),)
    body = markup("<p>A random search: {} {} models, trained {} steps each as one vmap "
                  "population. Leaderboard (complete trials by dev error):</p>{}",
                  search["trials"], search.get("model", "MLP"), search["steps"], leaderboard)
    best = search["best"]
    return Section("search", title, "shown", body, figures), {
        "trials": search["trials"], "best_dev_error": None if best is None else best["dev_error"]}


def _next_steps(run: RunData) -> Built:
    title = "Next steps"
    steps = run.report.get("next_steps")
    if steps is None:
        return _not_reached(run, "next_steps", title)
    items = join(markup("<li><b>[{}]</b> {} <i>({})</i></li>", s["stage"], s["action"],
                        s["why"]) for s in steps)
    return Section("next_steps", title, "shown",
                   markup("<p>Most urgent first (Full Stack Deep Learning's decision tree):</p>"
                          "<ol>{}</ol>", items)), {"count": len(steps)}


SECTIONS: tuple[Callable[[RunData], Built], ...] = (
    _splits, _sanity, _loss_curves, _bias_variance, _pr_roc, _risk_coverage, _reliability,
    _confusion, _error_analysis, _histograms, _learning_curve, _learning_rate_range, _search,
    _next_steps)
