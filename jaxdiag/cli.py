"""The ``jaxdiag`` command line: ``jaxdiag run`` runs the methodology on a model and data."""

import argparse
import errno
import json
import logging
import os
import re
import sys
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path

GAP_LABELS = {  # the order of jaxdiag.diagnose.GAPS (imported late: --help answers at once)
    "avoidable_bias": "avoidable bias   (train - human)",
    "variance": "variance         (train-dev - train)",
    "data_mismatch": "data mismatch    (dev - train-dev)",
    "dev_overfitting": "dev overfitting  (test - dev)",
}

FRESH_HELP = ("start over: remove what jaxdiag wrote in the folder of that name (only a folder "
              "jaxdiag made; your own files there are kept)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jaxdiag", description="The practical methodology of deep learning, in JAX.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="train a baseline, evaluate every split and diagnose its error",
        description="Runs (or resumes) a baseline on the built-in digits data or on your own "
                    "data, and writes runs/<name>/ with config.toml, report.json, report.html, "
                    "TensorBoard events and Orbax checkpoints. Running the same config again "
                    "resumes.")
    run.add_argument("--config", metavar="TOML", help="config file (defaults when omitted)")
    run.add_argument("--set", metavar="KEY=VALUE", action="append", default=[], dest="overrides",
                     help="override a config key, e.g. --set train.steps=500 (repeatable)")
    run.add_argument("--name", help="run name: the folder under --runs-dir (config key 'name')")
    run.add_argument("--runs-dir", default="runs", help="parent folder of runs (default: runs)")
    run.add_argument("--fresh", action="store_true", help=FRESH_HELP)
    run.add_argument("--json", action="store_true", help="print report.json to stdout")
    run.add_argument("--no-report", action="store_true",
                     help="skip rendering report.html (`jaxdiag report RUN_DIR` renders it)")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    report = commands.add_parser(
        "report", help="render a run folder (finished or killed) into report.html",
        description="Renders runs/<name>/ of `jaxdiag run` into report.html (self-contained, "
                    "opens from disk), figures/*.png and report.json. A killed run's report "
                    "shows what it reached and says which sections are missing.")
    report.add_argument("run_dir", metavar="RUN_DIR", help="the run folder, e.g. runs/digits-mlp")
    report.add_argument("--json", action="store_true", help="print report.json to stdout")
    train = commands.add_parser(
        "train", help="train a shared trunk with named heads: multi-task, transfer, studies",
        description="Runs (or resumes) a multi-task or transfer-learning run from a TOML "
                    "config, and writes runs/<name>/ with config.toml, summary.json, "
                    "TensorBoard events and Orbax checkpoints (best and latest). A config with "
                    "a [study] runs every arm with every seed and prints the comparison.")
    train.add_argument("config", metavar="CONFIG", help="train TOML file")
    train.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                       dest="overrides", help="override a key, e.g. --set optimizer.learning_rate"
                       "=1e-3 (repeatable)")
    train.add_argument("--runs-dir", default="runs", help="parent folder of runs (default: runs)")
    train.add_argument("--fresh", action="store_true", help=FRESH_HELP)
    train.add_argument("--json", action="store_true", help="print the summary as JSON")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    sweep = commands.add_parser(
        "sweep", help="hyperparameter search: populations of models trained at once",
        description="Runs (or resumes) a sweep: populations of the config's model (the "
                    "built-in mlp or cnn, or model = 'package.module:function') on the sweep's "
                    "data, each "
                    "population trained in one compiled program, trials stored in "
                    "runs/<name>/trials.sqlite. Running the same config again resumes.")
    sweep.add_argument("config", nargs="?", metavar="CONFIG",
                       help="sweep TOML file (defaults when omitted)")
    sweep.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                       dest="overrides", help="override a key, e.g. --set sampler=\"gp\"")
    sweep.add_argument("--runs-dir", default="runs", help="parent folder of runs (default: runs)")
    sweep.add_argument("--fresh", action="store_true", help=FRESH_HELP)
    sweep.add_argument("--json", action="store_true",
                       help="print the summary (best trial, leaderboard) as JSON")
    sweep.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command; a bad value, a damaged or busy run folder, a full disk or any other
    failure to write ends in one line on stderr (``jaxdiag: error: ...``) and exit code 2."""
    args = build_parser().parse_args(argv)
    commands = {"run": _run, "report": _report, "train": _train, "sweep": _sweep}
    from jaxdiag.experiment.compilation_cache import enable_compilation_cache

    enable_compilation_cache()  # $JAXDIAG_COMPILATION_CACHE, or ~/.cache/jaxdiag/xla
    logging.getLogger("absl").setLevel(max(logging.WARNING,  # Orbax logs every save at INFO
                                           logging.getLogger("absl").level))
    try:
        return commands[args.command](args)
    except (ValueError, OSError) as e:  # heavy modules raise only these for bad input
        print(f"jaxdiag: error: {error_line(e, getattr(args, 'runs_dir', None))}",
              file=sys.stderr)
        return 2


_WRITING = re.compile(r'(?:Error writing local file|Failed writing:) "([^"]+)"')


def error_line(e: BaseException, runs_dir: str | None = None) -> str:
    """One line that says what failed: a full disk names the file (or ``runs_dir``) and how
    to go on."""
    text = str(e)
    if (isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT)) or \
            "No space left on device" in text or "os_error_code='28'" in text:
        where = (getattr(e, "filename", None) or next(iter(_WRITING.findall(text)), None)
                 or (runs_dir and f"under {runs_dir}"))
        return (f"no space left on the device{f' while writing {where}' if where else ''}"
                f" ({os.strerror(getattr(e, 'errno', None) or errno.ENOSPC)}); free some space "
                "and run the same command again: it resumes from its last checkpoint.")
    if isinstance(e, OSError) and (e.filename or e.strerror):
        where = e.filename or (runs_dir and f"while writing under {runs_dir}")
        return f"{where}: {e.strerror or text}" if where else e.strerror
    return text.split(" [tensorstore_spec=")[0].splitlines()[0] if text else type(e).__name__


def console() -> None:
    """The ``jaxdiag`` executable: ``main`` in a process whose background writers (Orbax,
    TensorBoard) do not print their tracebacks: when the command fails, its own error line
    says what to do; when it succeeds, each distinct background failure gets one line."""
    for name in ("absl", "asyncio"):  # Orbax logs its writers' failures with tracebacks
        logging.getLogger(name).setLevel(logging.CRITICAL)
    pending: dict[str, None] = {}
    failed = False

    def one_line(where: str, exc: BaseException | None) -> None:
        line = f"jaxdiag: warning: {where}: {error_line(exc) if exc else 'failed'}"[:300]
        if not failed and line not in pending:
            pending[line] = None

    warnings.showwarning = lambda message, *_: print(f"jaxdiag: warning: {message}",
                                                     file=sys.stderr)
    threading.excepthook = lambda a: one_line("a background writer", a.exc_value)
    sys.unraisablehook = lambda u: one_line("while shutting down", u.exc_value)
    code = main()
    failed = code != 0
    if not failed:
        print(*pending, sep="\n", file=sys.stderr, end="\n" if pending else "")
    sys.exit(code)


def _run(args: argparse.Namespace) -> int:
    # Heavy imports after parsing, so --help answers at once.
    from jaxdiag.experiment import load_config
    from jaxdiag.main_job import run_main_job
    from jaxdiag.report import REPORT_FILE, render_report

    overrides = [*args.overrides,
                 *([f"name={json.dumps(args.name)}"] if args.name is not None else [])]
    config = load_config(args.config, overrides)
    report = run_main_job(config, args.runs_dir, fresh=args.fresh,
                          progress=not args.no_progress)
    html = None if args.no_report else render_report(report["run_dir"])
    if args.json:
        print(json.dumps(report, indent=1) if html is None
              else (html.parent / REPORT_FILE).read_text())
    else:
        print(format_summary(report, REPORT_FILE, html))
    return 0


def _report(args: argparse.Namespace) -> int:
    from jaxdiag.report import REPORT_FILE, render_report

    html = render_report(args.run_dir)
    text = (html.parent / REPORT_FILE).read_text()
    if args.json:
        print(text)
        return 0
    sections = json.loads(text)["report"]["sections"]
    for section in sections.values():
        print(f"  {section['status']:<14}{section['title']}")
    print(f"report: {html}")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from jaxdiag.search import load_sweep_config, run_sweep

    config, space, resolved = load_sweep_config(args.config, args.overrides)
    summary = run_sweep(config, space, resolved, args.runs_dir, fresh=args.fresh,
                        progress=not args.no_progress)
    print(json.dumps(summary, indent=1) if args.json else format_sweep(summary))
    return 0


def _train(args: argparse.Namespace) -> int:
    from jaxdiag.experiment import load_config
    from jaxdiag.experiment.multitask_config import MultiTaskConfig
    from jaxdiag.train_job import run_train_job

    config = load_config(args.config, args.overrides, cls=MultiTaskConfig)
    summary = run_train_job(config, args.runs_dir, fresh=args.fresh,
                            progress=not args.no_progress, config_dir=Path(args.config).parent)
    if args.json:
        print(json.dumps(summary, indent=1))
    elif "arms" in summary:
        print(format_study(summary))
    else:
        print(format_train(summary))
    return 0


def format_train(summary: dict) -> str:
    """Per-task dev and test metrics at the best checkpoint, and where the run lives."""
    training, transfer = summary["training"], summary["transfer"]
    lines = [f"run {summary['config']['name']}: tasks "
             + ", ".join(f"{t} ({k})" for t, k in summary["tasks"].items())
             + f"; transfer {transfer['mode']}"
             + (f" from {transfer['source_run']}" if transfer["source_run"] else ""), ""]
    lines.append(f"{'task':<14}{'split':<6}{'labelled':>9}{'loss':>9}{'accuracy':>10}{'f1':>8}"
                 f"{'roc auc':>9}")
    for task in summary["tasks"]:
        for split in ("dev", "test"):
            m = summary[split]["tasks"][task]
            auc = "" if m["roc_auc"] is None else f"{m['roc_auc']:.4f}"
            lines.append(f"{task:<14}{split:<6}{m['labelled']:>9}{m['loss']:>9.4f}"
                         f"{m['accuracy']:>10.2%}{m['f1']:>8.4f}{auc:>9}")
    stopped = {"early_stopping": "stopped early", "diverged": "DIVERGED (NaN/Inf loss)"}
    lines += ["", f"trained {training['steps_done']} steps"
              + (f" ({stopped[training['stopped']]})" if training["stopped"] else "")
              + (f", resumed from step {training['resumed_from']}"
                 if training["resumed_from"] is not None else "")
              + f"; best dev {training['select']} {training['best_value']:.4g} at step "
              f"{training['best_step']} (metrics above are at that checkpoint)"
              if training["best_step"] is not None else "no dev evaluation improved"]
    if transfer["mode"] == "head_only":
        lines.append("trunk parameters bit-identical to the source: "
                     + ("yes" if transfer["trunk_unchanged"] else "NO"))
    run_dir = summary["run_dir"]
    lines += [f"run folder: {run_dir}  (summary.json, config.toml, tensorboard/, checkpoints/)",
              f"  tensorboard --logdir {run_dir}/tensorboard"]
    return "\n".join(lines)


def format_study(study: dict) -> str:
    """The study's table: each arm's test metric per task, mean ± std over the seeds."""
    metric, tasks = study["metric"], study["tasks"]
    lines = [f"study {study['run_dir']}: test {metric}, mean ± std over seeds "
             f"{study['seeds']}", "",
             "| arm | " + " | ".join(tasks) + " |", "|---" * (len(tasks) + 1) + "|"]
    for arm, row in study["arms"].items():
        cells = []
        for task in tasks:
            cell = row.get(task)
            if cell is None:
                cells.append("")
            else:
                scale, unit = (100, "%") if metric != "loss" else (1, "")
                std = "" if cell["std"] is None else f" ± {cell['std'] * scale:.1f}"
                cells.append(f"{cell['mean'] * scale:.1f}{std}{unit}")
        lines.append(f"| {arm} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_sweep(summary: dict) -> str:
    """The leaderboard of a sweep summary as a table."""
    counts = summary["counts"]
    lines = [f"sweep {summary['run_dir']}: {summary['trials']} trials ("
             + ", ".join(f"{n} {s}" for s, n in counts.items() if n) + ")", ""]
    board = summary["leaderboard"]
    if not board:
        return "\n".join([*lines, "no trial ran every step"])
    names = list(board[0]["hparams"])
    lines.append(f"{'rank':>4} {'trial':>6} {'dev error':>10} {'dev loss':>9}  "
                 + "  ".join(f"{n:>13}" for n in names))
    for rank, t in enumerate(board, 1):
        values = "  ".join(f"{v:>13.4g}" if isinstance(v, float) else f"{v!s:>13}"
                           for v in t["hparams"].values())
        lines.append(f"{rank:>4} {t['id']:>6} {t['dev_error']:>10.2%} {t['dev_loss']:>9.4f}  "
                     + values)
    return "\n".join(lines)


def _format_sanity(sanity: dict) -> list[str]:
    lines = ["sanity checks:"]
    lines += [f"  {'ok  ' if c['ok'] else 'FAIL'} {c['name']:<13}{c['message']}"
              + ("" if c["ok"] else f"; likely: {c['causes'][0]}") for c in sanity["checks"]]
    overfit = sanity["overfit_one_batch"]
    if overfit["passed"]:
        lines.append(f"  ok   overfit batch loss {overfit['initial_loss']:.3g} -> "
                     f"{overfit['final_loss']:.3g}, below target at step "
                     f"{overfit['steps_to_target']}")
    else:
        f = overfit["findings"][0]
        lines.append(f"  FAIL overfit batch the loss {f['kind'].replace('_', ' ')}: "
                     f"{f['evidence']}; likely: {'; '.join(f['causes'][:2])}")
    return lines


def _format_analysis(report: dict) -> list[str]:
    analysis = report["error_analysis"]
    confusions = ", ".join(f"{c['true']}→{c['predicted']} ({c['count']})"
                           for c in analysis["confusions"][:3])
    top = analysis["categories"][0] if analysis["categories"] else None
    lines = [f"error analysis (dev): costliest confusions {confusions or 'none'}"]
    if top and top["errors"]:
        lines.append(f"  fixing every mistake on {top['category']} lowers dev error by at most "
                     f"{top['ceiling']:.2%}")
    if analysis["worst_mistakes_png"]:
        lines.append(f"  worst mistakes: {analysis['worst_mistakes_png']}")
    labels = report["label_errors"]
    if labels is not None:
        lines.append(f"suspected label errors (confident learning): {labels['count']} of the "
                     f"training labels ({labels['share']:.1%})"
                     + (": indices " + ", ".join(str(s["index"]) for s in labels["suspects"][:8])
                        if labels["count"] else ""))
    curve = report["learning_curve"]
    if curve is not None:
        lines.append(f"learning curve: {curve['message']}")
    return lines


def format_summary(report: dict, report_file: str, html: Path | None) -> str:
    """The human-readable summary of a report: per-split table, decomposition, where to look."""
    config = report["config"]
    lines = [
        f"run {config['name']}: {config['model']['name']} on {config['data']['source']}, "
        f"dev/test domain: {config['data']['target']}",
        "",
        *_format_sanity(report["sanity"]),
        "",
        f"{'split':<12}{'domain':<8}{'size':>6}{'loss':>9}{'error':>9}{'accuracy':>10}",
    ]
    for name, s in report["splits"].items():
        lines.append(f"{name:<12}{s['domain']:<8}{s['size']:>6}{s['loss']:>9.4f}"
                     f"{s['error']:>9.2%}{s['accuracy']:>10.2%}")
    training = report["training"]
    if training["diverged_at"] is not None:
        lines.append(f"\ntraining diverged (NaN/Inf loss) at step {training['diverged_at']}")
    lines += [f"training loss {f['kind'].replace('_', ' ')} (step {f['step']}): {f['evidence']}; "
              f"likely: {'; '.join(f['causes'][:2])}" for f in report["loss_curve"]]
    bv = report["bias_variance"]
    lines += ["", f"bias / variance (human-level error {bv['errors']['human']:.2%})"]
    for gap in GAP_LABELS:
        value = bv["gaps"][gap]
        lines.append(f"  {GAP_LABELS[gap]:<38}{'n/a' if value is None else f'{value:+.2%}':>8}")
    if bv["dominant"]:
        lines.append(f"  dominant: {bv['dominant'].replace('_', ' ')} (its actions are in the "
                     "next steps below)")
    else:
        lines.append("  no gap above tolerance: the model is at human level on every split")
    check = report["gradcheck"]
    lines += ["", "gradient check on one batch (float64): "
              + ("passed" if check["ok"] else f"FAILED at {', '.join(check['failed'])}")
              + f", worst relative error {check['worst_relative_error']:.1e}"]
    alerts = report["monitor"]["alerts"]
    lines.append(f"monitor (every {report['monitor']['every']} steps): "
                 + ("no alerts" if not alerts else f"{len(alerts)} alert(s)"))
    lines += [f"  - {a['kind']} at {a['where']} ({a['value']:.3g}, steps {a['first_step']}-"
              f"{a['last_step']}): {a['cause']}" for a in alerts]
    lines += ["", *_format_analysis(report)]
    search = report.get("search")
    if search:
        best = search["best"]
        lines += ["", f"random search ({search['trials']} MLPs in one population, "
                  f"{search['steps']} steps): "
                  + ("no trial finished" if best is None else
                     f"best dev error {best['dev_error']:.2%} (trial {best['id']}: "
                     + ", ".join(f"{k} {v:.3g}" for k, v in best["hparams"].items()) + ")"),
                  f"  trials and leaderboard: {search['run_dir']}/ (trials.sqlite, summary.json)"]
    lines += ["", "next steps (most urgent first):"]
    lines += [f"  {i}. [{s['stage']}] {s['action']}  ({s['why']})"
              for i, s in enumerate(report["next_steps"], 1)]
    run_dir = report["run_dir"]
    resumed = training["resumed_from"]
    lines += [
        "",
        (f"resumed from step {resumed}; " if resumed is not None else "")
        + f"trained {training['steps_done']} steps",
        f"run folder: {run_dir}  ({report_file}, config.toml, tensorboard/, checkpoints/)",
        f"  tensorboard --logdir {run_dir}/tensorboard",
        f"report: {html}" if html else f"report: not rendered (jaxdiag report {run_dir})",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    console()
