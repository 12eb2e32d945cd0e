"""The text summaries the CLI prints: of a main-job report, a sweep, a train run and a study.

Each reads the same dicts that ``report.json``, ``summary.json`` and ``study.json`` hold.
"""

from pathlib import Path

ONE_SEED = ("one seed: how much these errors move from seed to seed is not measured "
            "(--set train.seeds=3 trains 3 copies as one population)")
GAP_LABELS = {  # the order of jaxdiag.diagnose.GAPS
    "avoidable_bias": "avoidable bias   (train - human)",
    "variance": "variance         (train-dev - train)",
    "data_mismatch": "data mismatch    (dev - train-dev)",
    "dev_overfitting": "dev overfitting  (test - dev)",
}


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
        if labels.get("triage") is not None:
            lines.append(f"  {labels['triage']['message']}")
    remedy = report.get("remedy")
    if remedy is not None:
        lines.append(f"remedy: {remedy['message']}")
        lines.append("  mismatch gap (dev - train-dev): "
                     f"{remedy['gaps']['before']['data_mismatch']:+.2%} without, "
                     f"{remedy['gaps']['after']['data_mismatch']:+.2%} with"
                     if remedy["gaps"]["before"].get("data_mismatch") is not None else
                     f"  dev error {remedy['before']['dev']:.2%} without, "
                     f"{remedy['after']['dev']:.2%} with")
    curve = report["learning_curve"]
    if curve is not None:
        lines.append(f"learning curve: {curve['message']}")
    lr_range = report.get("learning_rate_range")
    if lr_range is not None:
        lines.append(f"learning-rate range test ({len(lr_range['learning_rates'])} rates x "
                     f"{len(lr_range['final_loss'][0])} seeds, {lr_range['steps']} steps, by "
                     f"{lr_range['criterion'].replace('_', ' ')}): pick "
                     f"{lr_range['pick']:.2g}, configured {lr_range['configured']:.2g}")
    return lines


def format_summary(report: dict, report_file: str, html: Path | None) -> str:
    """The human-readable summary of a report: per-split table, decomposition, where to look."""
    config = report["config"]
    lines = [
        f"run {config['name']}: {config['model']['name']} on {config['data']['source']}, "
        f"dev/test domain: {report['data'].get('target', config['data']['target'])}",
        *[f"note: {note}" for note in report["data"].get("notes", ())],
        "",
        *_format_sanity(report["sanity"]),
        "",
        f"{'split':<12}{'domain':<8}{'size':>6}{'loss':>9}{'error':>9}{'95% interval':>18}"
        f"{'accuracy':>10}",
    ]
    uncertainty = report["uncertainty"]
    for name, s in report["splits"].items():
        low, high = uncertainty["splits"][name]["wilson"]
        lines.append(f"{name:<12}{s['domain']:<8}{s['size']:>6}{s['loss']:>9.4f}"
                     f"{s['error']:>9.2%}{f'[{low:.2%}, {high:.2%}]':>18}{s['accuracy']:>10.2%}")
    seeds = report.get("seeds")
    if seeds:
        lines.append(f"over {seeds['seeds']} seeds (mean ± sd): " + ", ".join(
            f"{name} {seeds['mean'][name]:.2%} ± {seeds['std'][name]:.2%}"
            for name in report["splits"]))
    else:
        lines.append(ONE_SEED)
    lines.append(f"the {uncertainty['splits']['dev']['size']} dev examples detect a difference "
                 f"of {uncertainty['dev_resolution']:.2%} between two models (95% confidence, "
                 f"80% power); gains below {uncertainty['dev_significant_gain']:.2%} are noise")
    training = report["training"]
    if training["diverged_at"] is not None:
        lines.append(f"\ntraining diverged (NaN/Inf loss) at step {training['diverged_at']}")
    lines += [f"training loss {f['kind'].replace('_', ' ')} (step {f['step']}): {f['evidence']}; "
              f"likely: {'; '.join(f['causes'][:2])}" for f in report["loss_curve"]]
    if report.get("overfitting"):
        lines.append(f"overfitting: {report['overfitting']['message']}")
    bv = report["bias_variance"]
    lines += ["", f"bias / variance (human-level error {bv['errors']['human']:.2%})"]
    for gap in GAP_LABELS:
        value, interval = bv["gaps"][gap], bv["intervals"][gap]
        verdict = "" if interval is None else (
            f"  [{interval[0]:+.2%}, {interval[1]:+.2%}]"
            + ("" if bv["significant"][gap] else " not significant"))
        lines.append(f"  {GAP_LABELS[gap]:<38}{'n/a' if value is None else f'{value:+.2%}':>8}"
                     + verdict)
    if bv["dominant"]:
        lines.append(f"  dominant: {bv['dominant'].replace('_', ' ')} (its actions are in the "
                     "next steps below)")
    else:
        lines.append("  no significant gap above tolerance: the splits are too small to tell, "
                     "or the model is at human level on every split")
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
        lines += ["", f"random search ({search['trials']} {search.get('model', 'MLP')} models in "
                  "one population, "
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

