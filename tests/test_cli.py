import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from jaxdiag.cli import main
from jaxdiag.diagnose import dev_set_resolution, wilson_interval
from jaxdiag.report.text_summary import ONE_SEED, format_summary

NO_POPULATIONS = ["--set", "diagnose.label_errors=false", "--set", "diagnose.learning_curve=false",
                  "--set", "diagnose.lr_range=false",
                  "--set", "search.trials=0"]


def test_run_json_on_the_built_in_data(finished_run):
    report, run_dir = finished_run
    search = report["search"]
    assert search["trials"] == 4 and search["counts"]["complete"] + search["counts"]["failed"] == 4
    assert search["space"]["learning_rate"] == {"type": "log_uniform", "low": 1e-4, "high": 0.1}
    assert 1e-4 <= search["best"]["hparams"]["learning_rate"] <= 0.1
    assert (run_dir / "search" / "trials.sqlite").is_file()
    splits = report["splits"]
    assert list(splits) == ["train", "train_dev", "dev", "test", "test_source"]
    assert splits["test"]["domain"] == "target" and splits["test_source"]["domain"] == "source"
    for split in splits.values():
        assert split["error"] == pytest.approx(1 - split["accuracy"])
    # the shifted target domain is measurably harder than the same examples unshifted
    assert splits["test"]["error"] > splits["test_source"]["error"]
    bv = report["bias_variance"]
    assert bv["errors"]["human"] == 0.005
    assert bv["gaps"]["data_mismatch"] == pytest.approx(
        splits["dev"]["error"] - splits["train_dev"]["error"])
    assert bv["dominant"] == "data_mismatch" and bv["significant"]["data_mismatch"]
    uncertainty = report["uncertainty"]  # issue 27: every error with its interval
    for name, split in splits.items():
        mistakes = round(split["error"] * split["size"])
        assert uncertainty["splits"][name]["wilson"] == pytest.approx(
            wilson_interval(mistakes, split["size"]))
        low, high = uncertainty["splits"][name]["bootstrap"]
        assert low <= split["error"] <= high
    for gap, interval in bv["intervals"].items():
        assert bv["significant"][gap] == (interval[0] > 0 or interval[1] < 0)
    assert uncertainty["dev_resolution"] == pytest.approx(
        dev_set_resolution(splits["dev"]["size"], splits["dev"]["error"]))
    assert report["data"]["target"] == "shift" and report["data"]["notes"] == []
    lr_range = report["learning_rate_range"]  # 12 rates x 3 seeds of the run's MLP
    assert len(lr_range["learning_rates"]) == 12 and len(lr_range["final_loss"][0]) == 3
    assert lr_range["pick"] in lr_range["learning_rates"] and lr_range["configured"] == 3e-3
    check = report["gradcheck"]
    assert check["ok"] and check["dtype"] == "float64" and check["failed"] == []
    assert set(check["leaves"]) == {f"dense_{i}/{p}" for i in range(2) for p in ("kernel", "bias")}
    monitor = report["monitor"]
    assert monitor["activation_kinds"] == {"dense_0": "relu", "dense_1": "none"}
    assert len(report["history"]["monitor"]) == len(report["history"]["train_loss"])
    assert json.loads((run_dir / "report.json").read_text()) == report
    assert report["complete"] and report["report"]["html"] == "report.html"
    assert (run_dir / "config.toml").is_file()
    assert any((run_dir / "tensorboard").glob("events.out.tfevents.*"))
    assert (run_dir / "checkpoints" / "latest" / "400").is_dir()
    best = report["training"]["best_step"]  # by dev loss, the default train.select
    assert (run_dir / "checkpoints" / "best" / str(best)).is_dir()
    history = report["history"]
    assert min(e["dev"]["loss"] for e in history["eval"]) == history["best_value"]
    # the diagnoses of issue 6
    sanity = report["sanity"]
    assert [c["name"] for c in sanity["checks"]] == ["labels", "input_scale", "initial_loss",
                                                     "chance_level"]
    assert all(c["ok"] for c in sanity["checks"]) and sanity["overfit_one_batch"]["passed"]
    assert not any("labels do not match" in s["action"] for s in report["next_steps"])
    assert report["data"]["raw_input_scale"]["ok"] is False  # digits pixels are 0..16
    assert report["loss_curve"] == []
    analysis = report["error_analysis"]
    worst = analysis["worst_mistakes"]
    assert 0 < len(worst) <= 16 and all(w["true"] != w["predicted"] for w in worst)
    assert [w["confidence"] for w in worst] == sorted((w["confidence"] for w in worst),
                                                      reverse=True)
    assert (run_dir / "worst_mistakes.png").is_file()
    dev_errors = round(splits["dev"]["error"] * splits["dev"]["size"])
    assert sum(c["errors"] for c in analysis["categories"]) == dev_errors
    labels = report["label_errors"]
    assert labels["share"] == pytest.approx(labels["count"] / splits["train"]["size"])
    assert len(labels["suspects"]) == min(labels["count"], 20)
    assert ONE_SEED in format_summary(report, "report.json", None)  # train.seeds = 1
    triage = labels["triage"]  # 5% of train flipped in a copy, its folds run again
    assert triage["planted"] == round(0.05 * splits["train"]["size"])
    assert 0.5 <= triage["recall"] <= 1 and triage["flags"] == labels["count"]
    assert 0 <= triage["review_top"] <= triage["flags"] and triage["precision"] is None
    curve = report["learning_curve"]
    assert curve["sizes"][-1] == splits["train"]["size"] and len(curve["dev_error"]) == 5
    assert report["next_steps"][0]["stage"] == "data"  # data mismatch, and no bug
    tune = report["next_steps"][-1]  # the tuning step reads the search
    assert tune["stage"] == "tune" and f"{search['best']['dev_error']:.2%}" in tune["why"]


def test_mismatch_disappears_with_a_source_target_and_a_planted_bug_fails_overfit(
        tmp_path, capsys, fast_args):
    """The two runs of issue 6's "done when", at the fast size (the full runs: README)."""
    base = ["run", "--json", "--no-report", "--runs-dir", str(tmp_path), *fast_args,
            *NO_POPULATIONS]
    tags = tmp_path / "tags.csv"
    tags.write_text("index,tag\n" + "".join(f"{i},first ten\n" for i in range(10)))
    gaps = {}
    for target in ("shift", "source"):
        assert main([*base, "--name", target, "--set", f"data.target={target!r}",
                     "--set", f"diagnose.tags_file={str(tags)!r}"]) == 0
        report = json.loads(capsys.readouterr().out)
        gaps[target] = report["bias_variance"]
        [tag] = report["error_analysis"]["tags"]
        assert tag["category"] == "first ten" and 0 <= tag["errors"] <= 10
        assert tag["ceiling"] == pytest.approx(tag["errors"] / report["splits"]["dev"]["size"])
    assert gaps["shift"]["gaps"]["data_mismatch"] > 0.05
    assert gaps["shift"]["dominant"] == "data_mismatch"
    assert abs(gaps["source"]["gaps"]["data_mismatch"]) < 0.03
    assert gaps["source"]["dominant"] != "data_mismatch"

    assert main([*base, "--name", "lr10", "--set", "optimizer.learning_rate=10",
                 "--set", "train.steps=200"]) == 0
    report = json.loads(capsys.readouterr().out)
    overfit = report["sanity"]["overfit_one_batch"]
    assert not overfit["passed"] and overfit["findings"][0]["kind"] == "explodes"
    assert "learning rate too high" in overfit["findings"][0]["causes"]
    first = report["next_steps"][0]
    assert first["stage"] == "debug" and "learning rate too high" in first["action"]


def test_summary_rerun_config_errors_and_fresh(tmp_path, capsys, fast_args):
    assert main(["run", "--runs-dir", str(tmp_path), "--set", "train.stepz=3"]) == 2
    assert "config key 'train.stepz': unknown key" in capsys.readouterr().err
    assert main(["run", "--runs-dir", str(tmp_path), "--set", "data.source=absent.npz"]) == 2
    assert "absent.npz" in capsys.readouterr().err
    args = ["run", "--runs-dir", str(tmp_path), "--name", "small", *fast_args, *NO_POPULATIONS]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert "train_dev" in first and "data mismatch" in first and str(tmp_path / "small") in first
    assert f"report: {tmp_path / 'small' / 'report.html'}" in first
    assert main([*args, "--no-report"]) == 0  # the finished run is reopened, not retrained
    out = capsys.readouterr().out
    assert "resumed from step 400; trained 400 steps" in out
    assert f"report: not rendered (jaxdiag report {tmp_path / 'small'})" in out
    assert main(["report", str(tmp_path / "small")]) == 0
    out = capsys.readouterr().out
    assert "shown         Learning curve" not in out and "switched off  Learning curve" in out
    assert "shown         Bias, variance" in out and out.endswith(
        f"report: {tmp_path / 'small' / 'report.html'}\n")
    assert main(["report", str(tmp_path / "absent")]) == 2
    assert "run_dir: expected a run folder" in capsys.readouterr().err
    # Another config under the same name is an error that leaves the folder as it was.
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    changed = [*args, "--set", "seed=1"]
    assert main(changed) == 2
    assert "first difference: seed" in capsys.readouterr().err
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert main([*changed, "--fresh", "--no-report"]) == 0
    assert "resumed from" not in capsys.readouterr().out


def _kill_when_written(process: subprocess.Popen, path) -> None:
    """SIGKILLs ``process`` as soon as the folder ``path`` exists (within 120 s)."""
    deadline = time.monotonic() + 120
    while not path.is_dir() and process.poll() is None:
        assert time.monotonic() < deadline, f"no {path} within 120 s"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, process.stderr.read().decode()


@pytest.mark.slow  # 30 s; test_experiment_loop's crashed fit resumes to identical numbers too
def test_killed_run_resumes_to_the_same_numbers(tmp_path):
    """SIGKILL `jaxdiag run` after its first checkpoint; the rerun ends where a whole run does."""
    slow = ["--set", "train.steps=2000", "--set", "train.eval_every=500",
            "--set", "train.checkpoint_every=500", "--set", "model.hidden=[64]",
            "--set", "diagnose.overfit_steps=50", *NO_POPULATIONS, "--no-progress", "--json"]
    command = [sys.executable, "-m", "jaxdiag.cli", "run", "--runs-dir", str(tmp_path), *slow]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # the uninterrupted reference runs alongside (two cores), to keep the suite short
    reference = subprocess.Popen([*command, "--name", "whole"], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process = subprocess.Popen([*command, "--name", "killed"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _kill_when_written(process, tmp_path / "killed" / "checkpoints" / "latest" / "500")
    # killed mid-training: only the report written before training, marked incomplete
    assert json.loads((tmp_path / "killed" / "report.json").read_text())["complete"] is False

    resumed = json.loads(subprocess.run([*command, "--name", "killed"], env=env, check=True,
                                        capture_output=True).stdout)
    out, err = reference.communicate()
    assert reference.returncode == 0, err.decode()
    whole = json.loads(out)
    assert 500 <= resumed["training"]["resumed_from"] < 2000
    assert whole["training"]["resumed_from"] is None
    assert resumed["splits"] == whole["splits"]
    assert resumed["history"] == whole["history"]
    assert resumed["bias_variance"] == whole["bias_variance"]


TRAIN_CONFIG = """
name = "cli-train"
[model]
hidden = [32]
[[tasks]]
name = "digit"
[[tasks]]
name = "even"
kind = "binary"
positive = [0, 2, 4, 6, 8]
[data]
missing_fraction = 0.5
[train]
steps = 600
eval_every = 100
"""


@pytest.mark.slow  # 20 s; test_experiment_multitask_fit's killed fit resumes identically too
def test_killed_train_run_resumes_to_the_same_numbers(tmp_path):
    """SIGKILL `jaxdiag train` after its first checkpoint; the rerun ends where a whole run
    does, down to the history and the best checkpoint's dev and test metrics."""
    (tmp_path / "train.toml").write_text(TRAIN_CONFIG)
    command = [sys.executable, "-m", "jaxdiag.cli", "train", str(tmp_path / "train.toml"),
               "--runs-dir", str(tmp_path), "--no-progress", "--json"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    reference = subprocess.Popen([*command, "--set", 'name="whole"'], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process = subprocess.Popen([*command, "--set", 'name="killed"'], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _kill_when_written(process, tmp_path / "killed" / "checkpoints" / "latest" / "100")
    assert not (tmp_path / "killed" / "summary.json").exists()

    resumed = json.loads(subprocess.run([*command, "--set", 'name="killed"'], env=env,
                                        check=True, capture_output=True).stdout)
    out, err = reference.communicate()
    assert reference.returncode == 0, err.decode()
    whole = json.loads(out)
    assert 100 <= resumed["training"]["resumed_from"] < 600
    assert whole["training"]["resumed_from"] is None
    for key in ("history", "dev", "test"):
        assert resumed[key] == whole[key]
    assert resumed["data"]["train"]["labelled"]["even"] < resumed["data"]["train"]["size"]


def test_train_summary_table_and_config_errors(tmp_path, capsys):
    (tmp_path / "train.toml").write_text(TRAIN_CONFIG)
    base = ["train", str(tmp_path / "train.toml"), "--runs-dir", str(tmp_path), "--no-progress"]
    assert main([*base, "--set", "train.steps=100"]) == 0
    out = capsys.readouterr().out
    for text in ("run cli-train: tasks digit (multiclass), even (binary)", "even", "roc auc",
                 "best dev loss", f"{tmp_path}/cli-train"):
        assert text in out
    assert main([*base, "--set", "train.step=100"]) == 2
    assert "config key 'train.step': unknown key" in capsys.readouterr().err
    assert main([*base, "--set", "train.steps=200"]) == 2
    assert "first difference: train.steps (100 vs 200)" in capsys.readouterr().err


@pytest.mark.parametrize(("override", "message"), [
    ("seed=99999999999999999999", "config key 'seed': expected an integer seed"),
    ("optimizer.learning_rate=inf", "'optimizer.learning_rate': expected a finite number"),
    ("model.hidden=[1000000000]", r"config key 'model.hidden': expected a model whose training "
                                  r"fits in memory, found 279 GiB of parameters"),
    ("data.source=absent.csv", "data file 'absent.csv': no such file"),
])
def test_values_that_cannot_run_are_one_line_and_write_nothing(tmp_path, capsys, override,
                                                                message):
    """Issue 24: before, an OverflowError, inf accepted, and 3 minutes to an out-of-memory."""
    runs = tmp_path / "runs"
    assert main(["run", "--runs-dir", str(runs), "--set", override, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err) and err.count("\n") == 1, err
    assert not runs.exists()
