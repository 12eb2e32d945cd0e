"""Run folders under hostile names, foreign folders, two processes and damaged files: nothing
jaxdiag did not write is changed or removed, and every refusal is one line with exit code 2."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jaxdiag.cli import main
from jaxdiag.experiment import RunConfig, load_config
from jaxdiag.experiment.multitask_config import MultiTaskConfig
from jaxdiag.experiment.run_folder import (
    LOCK_FILE,
    MARKER_FILE,
    RunFolderBusy,
    check_saved_config,
    open_run_folder,
    read_marker,
)
from jaxdiag.search import load_sweep_config

NO_POPULATIONS = ["--set", "diagnose.label_errors=false", "--set", "diagnose.learning_curve=false",
                  "--set", "diagnose.lr_range=false",
                  "--set", "search.trials=0"]
TINY_SWEEP = ["--set", "populations=1", "--set", "population_size=2", "--set", "train.steps=20"]
HOSTILE_NAMES = [".", "..", "", "a/b", "../escape", "/abs", "x\x00y", "a\\b", "line\nbreak",
                 "x" * 256, "é" * 128]


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under ``root`` (links not followed) with its kind and content."""
    tree = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            key = str(path.relative_to(root))
            if path.is_symlink():
                tree[key] = ("link", os.readlink(path))
            elif path.is_dir():
                tree[key] = ("dir",)
            else:
                tree[key] = ("file", path.read_bytes())
    return tree


def command_args(command: str, tmp_path: Path) -> list[str]:
    """The arguments before the name and --runs-dir for ``command``, cheapest settings."""
    if command == "train":
        config = tmp_path / "train.toml"
        config.write_text("[train]\nsteps = 20\neval_every = 10\nlog_every = 10\n")
        return ["train", str(config), "--no-progress"]
    if command == "sweep":
        return ["sweep", *TINY_SWEEP, "--no-progress"]
    return ["run", "--set", "train.steps=20", "--set", "train.log_every=10",
            "--set", "train.eval_every=10", "--set", "train.checkpoint_every=10",
            *NO_POPULATIONS, "--no-progress", "--no-report"]


def named(command: str, name: str) -> list[str]:
    return ["--name", name] if command == "run" else ["--set", f"name={json.dumps(name)}"]


@pytest.mark.parametrize("command", ["run", "train", "sweep"])
@pytest.mark.parametrize("name", [".", "..", "../escape", "a/b", "x\x00y", ""])
def test_a_name_that_is_not_one_folder_is_refused_before_anything_is_written(
        tmp_path, capsys, command, name):
    runs = tmp_path / "runs"
    (runs / "other").mkdir(parents=True)
    (runs / "other" / "keep.txt").write_text("mine")
    args = command_args(command, tmp_path)
    before = snapshot(tmp_path)
    assert main([*args, *named(command, name), "--fresh", "--runs-dir", str(runs)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxdiag: error: config key 'name': expected one folder name")
    assert err.count("\n") == 1
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", ["run", "train", "sweep"])
def test_fresh_refuses_a_folder_jaxdiag_did_not_make(tmp_path, capsys, command):
    """`--runs-dir ~ --name Documents --fresh` must not delete Documents."""
    home = tmp_path / "home"
    (home / "Documents" / "thesis").mkdir(parents=True)
    (home / "Documents" / "thesis" / "chapter1.tex").write_text("years of work")
    args = command_args(command, tmp_path)
    before = snapshot(tmp_path)
    assert main([*args, *named(command, "Documents"), "--fresh", "--runs-dir", str(home)]) == 2
    err = capsys.readouterr().err
    assert "expected a folder made by jaxdiag" in err and "Documents" in err
    assert err.count("\n") == 1
    assert snapshot(tmp_path) == before


def test_fresh_on_a_symlinked_run_folder_is_one_line_and_removes_nothing(tmp_path, capsys):
    target = tmp_path / "elsewhere"
    with open_run_folder(tmp_path, "elsewhere", "run"):
        (target / "config.toml").write_text("kept")
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "link").symlink_to(target)
    before = snapshot(tmp_path)
    args = command_args("run", tmp_path)
    assert main([*args, "--name", "link", "--fresh", "--runs-dir", str(runs)]) == 2
    err = capsys.readouterr().err
    assert "--fresh does not follow symbolic links" in err and err.count("\n") == 1
    assert snapshot(tmp_path) == before


def test_fresh_removes_only_what_jaxdiag_wrote_and_never_follows_a_link(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "data.npz").write_text("user data")
    runs = tmp_path / "runs"
    with open_run_folder(runs, "r", "run") as run_dir:
        for name in ("config.toml", "report.json", "report.json.tmp", "report.json.damaged"):
            (run_dir / name).write_text("written by jaxdiag")
        (run_dir / "checkpoints" / "100").mkdir(parents=True)
        (run_dir / "checkpoints.damaged").mkdir()
        (run_dir / "tensorboard").symlink_to(outside)  # a link under an owned name
        (run_dir / "notes.txt").write_text("the user's")
        (run_dir / "arm" / "seed-0").mkdir(parents=True)  # a folder of a marked run: a study arm
        (run_dir / "arm" / "seed-0" / MARKER_FILE).write_text('{"kind": "train"}')
        (run_dir / "mine").mkdir()
        (run_dir / "mine" / "x").write_text("the user's")
    with pytest.warns(UserWarning, match="--fresh kept mine, notes.txt: jaxdiag did not write"), \
            open_run_folder(runs, "r", "run", fresh=True) as run_dir:
        assert sorted(p.name for p in run_dir.iterdir()) == [LOCK_FILE, MARKER_FILE, "mine",
                                                             "notes.txt"]
    assert (outside / "data.npz").read_text() == "user data"
    assert (runs / "r" / "mine" / "x").read_text() == "the user's"


def test_every_command_writes_only_the_entries_that_fresh_knows(finished_run, tmp_path):
    """--fresh's list of jaxdiag's entries (JAXDIAG_ENTRIES) covers what each command
    writes; a name missing from it would be kept by --fresh and show up here."""
    from jaxdiag.experiment.run_folder import written_by_jaxdiag

    _, run_dir = finished_run
    sweep = run_dir / "search"
    train = tmp_path / "cli-train"
    assert main([*command_args("train", tmp_path), "--set", 'name="cli-train"',
                 "--runs-dir", str(tmp_path)]) == 0
    for folder in (run_dir, sweep, train):
        assert read_marker(folder) is not None
        foreign = [p.name for p in folder.iterdir()
                   if p.name not in (MARKER_FILE, LOCK_FILE) and not written_by_jaxdiag(p)]
        assert foreign == [], folder


def test_another_kind_of_jaxdiag_folder_is_refused(tmp_path):
    with open_run_folder(tmp_path, "s", "sweep"):
        pass
    with pytest.raises(ValueError, match="expected a run folder, found a sweep folder"), \
            open_run_folder(tmp_path, "s", "run"):
        pass
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="expected a folder, found a file"), \
            open_run_folder(tmp_path, "file", "run"):
        pass


HOLD = textwrap.dedent("""
    import sys, time
    from jaxdiag.experiment.run_folder import open_run_folder
    with open_run_folder(sys.argv[1], sys.argv[2], sys.argv[3]):
        print("held", flush=True)
        time.sleep(60)
""")


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_second_process_on_a_busy_run_folder_is_refused_at_once(tmp_path, capsys, command):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path), "busy", command],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        before = snapshot(tmp_path)
        assert main([*command_args(command, tmp_path), *named(command, "busy"),
                     "--runs-dir", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert f"in use by process {holder.pid} on host" in err and err.count("\n") == 1
        assert snapshot(tmp_path) == before
    finally:
        holder.kill()
        holder.wait()
    # the holder died without a word: its lock file stays and does not block
    with open_run_folder(tmp_path, "busy", command) as run_dir:
        assert json.loads((run_dir / LOCK_FILE).read_text())["pid"] == os.getpid()
        with pytest.raises(RunFolderBusy, match=f"in use by process {os.getpid()}"), \
                open_run_folder(tmp_path, "busy", command):
            pass


def test_a_damaged_config_toml_or_trial_store_is_named_with_what_to_do(tmp_path, capsys):
    with open_run_folder(tmp_path, "digits-mlp", "run") as run_dir:
        (run_dir / "config.toml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
        with pytest.raises(ValueError, match=r"config.toml: damaged .*--fresh"):
            check_saved_config(run_dir, RunConfig())
    args = command_args("run", tmp_path)
    assert main([*args, "--runs-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "digits-mlp" / "config.toml") in err and err.count("\n") == 1

    assert main([*command_args("sweep", tmp_path), "--set", 'name="s"',
                 "--runs-dir", str(tmp_path)]) == 0
    store = tmp_path / "s" / "trials.sqlite"
    store.write_bytes(b"garbage" * 100)
    capsys.readouterr()
    assert main([*command_args("sweep", tmp_path), "--set", 'name="s"',
                 "--runs-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{store}: damaged trial store" in err and "--fresh" in err and err.count("\n") == 1


def test_a_binary_config_file_and_a_damaged_report_are_named(tmp_path, capsys):
    binary = tmp_path / "config.toml"
    binary.write_bytes(bytes(range(256)))
    assert main(["run", "--config", str(binary)]) == 2
    err = capsys.readouterr().err
    assert f"config file {str(binary)!r}: expected UTF-8 TOML text" in err
    with open_run_folder(tmp_path, "r", "run") as run_dir:
        (run_dir / "config.toml").write_text('name = "r"\n')
        (run_dir / "report.json").write_text('{"complete": tr')
    assert main(["report", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert f"{run_dir / 'report.json'}: damaged" in err and "writes it anew" in err


def test_a_run_whose_latest_checkpoint_is_damaged_resumes_from_the_one_before(
        tmp_path, capsys, fast_args):
    """Done when of issue 24: the killed run's latest checkpoint and its report.json are
    damaged; the rerun sets both aside, resumes from the checkpoint before and ends with the
    numbers of the uninterrupted run."""
    args = ["run", "--json", "--no-report", "--runs-dir", str(tmp_path), "--name", "r",
            *fast_args, *NO_POPULATIONS]
    assert main(args) == 0
    whole = json.loads(capsys.readouterr().out)
    run_dir = tmp_path / "r"
    for path in (run_dir / "checkpoints" / "latest" / "400").rglob("*"):
        if path.is_file():
            path.write_bytes(b"\x00garbage")
    (run_dir / "report.json").write_text((run_dir / "report.json").read_text()[:100])
    with pytest.warns(UserWarning) as warned:
        assert main(args) == 0
    messages = " | ".join(str(w.message) for w in warned)
    assert "checkpoint" in messages and "set aside as 400.damaged" in messages
    assert "report.json: damaged" in messages
    resumed = json.loads(capsys.readouterr().out)
    assert resumed["training"]["resumed_from"] == 200
    assert resumed["splits"] == whole["splits"]
    assert resumed["history"] == whole["history"]
    assert (run_dir / "checkpoints" / "latest" / "400.damaged").is_dir()
    assert (run_dir / "report.json.damaged").is_file()


FILL = textwrap.dedent("""
    import resource, sys
    if sys.argv[1] == "rlimit":  # no tmpfs: a file-size limit fails writes the same way
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
    from jaxdiag.cli import console
    sys.argv = ["jaxdiag", *sys.argv[2:]]
    console()
""")


# 35-50 s each, as fresh processes compile everything: both run with the slow ones
# (benchmarks/slow_tests.sh)
@pytest.mark.slow
@pytest.mark.parametrize("limit", ["tmpfs", "rlimit"])
def test_a_full_disk_is_one_line_and_the_run_resumes_when_space_is_back(tmp_path, limit):
    """A 60 kB tmpfs (where it can be mounted) fails Orbax's checkpoint; a 20 kB file-size
    limit, with no checkpoint before the end, fails TensorBoard's event file in its background
    thread, which used to hang the run forever on tensorboardX's full queue."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = limit == "tmpfs" and os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=60k", "tmpfs", str(disk)],
        capture_output=True).returncode == 0
    try:
        args = [*command_args("run", tmp_path), "--set", "train.steps=100", "--runs-dir",
                str(disk), "--set", "train.checkpoint_every=50"]
        if not mounted:  # every checkpoint is larger than the limit
            args += ["--set", "train.checkpoint_every=100", "--set", "train.select=''"]
        env = {**os.environ, "JAXDIAG_COMPILATION_CACHE": "off"}  # only the run folder's disk
        full = subprocess.run([sys.executable, "-c", FILL, "tmpfs" if mounted else "rlimit",
                               *args], capture_output=True, text=True, timeout=300, env=env)
        assert full.returncode == 2, full.stderr
        lines = full.stderr.strip().splitlines()
        assert len(lines) == 1, full.stderr
        expected = ("no space left on the device" if mounted
                    else f"while writing under {disk}: File too large")
        assert lines[0].startswith("jaxdiag: error: ") and expected in lines[0]
        if mounted:
            subprocess.run(["mount", "-o", "remount,size=20m", str(disk)], check=True)
        resumed = subprocess.run([sys.executable, "-c", FILL, "none", *args],
                                 capture_output=True, text=True, timeout=300)
        assert resumed.returncode == 0, resumed.stderr
        assert "trained 100 steps" in resumed.stdout
    finally:
        if mounted:
            subprocess.run(["umount", str(disk)], check=True)


def _config_names(kind: str, name: str):
    """The config a command loads for ``--name``/``name=``, as the CLI builds it."""
    override = [f"name={json.dumps(name)}"]
    if kind == "sweep":
        return load_sweep_config(None, override)[0]
    return load_config(None, override, cls=MultiTaskConfig if kind == "train" else RunConfig)


NAMES = st.one_of(st.sampled_from([*HOSTILE_NAMES, "link", "Documents", "other-run", "ok"]),
                  st.text(st.sampled_from("./\\\x00\n a-é~$*"), max_size=8))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES, kind=st.sampled_from(["run", "train", "study", "sweep"]), fresh=st.booleans())
def test_no_hostile_name_changes_anything_outside_its_run_folder(tmp_path_factory, name, kind,
                                                                  fresh):
    root = tmp_path_factory.mktemp("hostile")
    runs = root / "home" / "runs"
    (root / "outside").mkdir()
    (root / "outside" / "precious.txt").write_text("keep")
    (root / "home" / "Documents").mkdir(parents=True)
    (root / "home" / "Documents" / "thesis.tex").write_text("keep")
    runs.mkdir()
    (runs / "link").symlink_to(root / "outside")
    (runs / "Documents").mkdir()
    (runs / "Documents" / "notes").write_text("keep")
    with open_run_folder(runs, "other-run", "run") as other:
        (other / "config.toml").write_text("kept")
    before = snapshot(root)
    try:
        config = _config_names("train" if kind == "study" else kind, name)
        with open_run_folder(runs, config.name, kind, fresh) as run_dir:
            (run_dir / "config.toml").write_text("new")
    except ValueError:
        assert snapshot(root) == before  # refused: nothing at all changed
        return
    target = str((runs / name).relative_to(root))
    outside = {k: v for k, v in snapshot(root).items()
               if k != target and not k.startswith(target + os.sep)}
    assert outside == {k: v for k, v in before.items()
                       if k != target and not k.startswith(target + os.sep)}
