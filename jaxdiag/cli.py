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
    hosts = sweep.add_argument_group(
        "many hosts", "one sweep over the processes of a jax.distributed job: start the same "
        "command on every process, each with its --process-id; process 0 writes the folder")
    hosts.add_argument("--coordinator", metavar="HOST:PORT",
                       help="process 0's address, the same for every process")
    hosts.add_argument("--num-processes", type=int, metavar="N", help="processes in the job")
    hosts.add_argument("--process-id", type=int, metavar="I", help="this process, 0 to N-1")
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
    from jaxdiag.jobs.run import run_main_job
    from jaxdiag.report import REPORT_FILE, render_report
    from jaxdiag.report.text_summary import format_summary

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
    from jaxdiag.report.text_summary import format_sweep
    from jaxdiag.search import load_sweep_config, run_sweep
    from jaxdiag.search.hosts import initialize, is_primary

    distributed = (args.coordinator, args.num_processes, args.process_id)
    if any(v is not None for v in distributed):
        if any(v is None for v in distributed):
            raise ValueError("--coordinator, --num-processes, --process-id: expected all three "
                             f"for a jax.distributed job, found {distributed}")
        initialize(*distributed)
    config, space, resolved = load_sweep_config(args.config, args.overrides)
    summary = run_sweep(config, space, resolved, args.runs_dir, fresh=args.fresh,
                        progress=not args.no_progress)
    if is_primary():
        print(json.dumps(summary, indent=1) if args.json else format_sweep(summary))
    return 0


def _train(args: argparse.Namespace) -> int:
    from jaxdiag.experiment import load_config
    from jaxdiag.experiment.multitask_config import MultiTaskConfig
    from jaxdiag.jobs.train import run_train_job
    from jaxdiag.report.text_summary import format_study, format_train

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


if __name__ == "__main__":
    console()
