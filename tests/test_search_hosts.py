"""One sweep over the processes of a jax.distributed job: 2 processes x 2 CPU devices on
localhost (gloo collectives) train the trials of 1 process x 4 devices and of 1 x 1, and a
job killed at a random point resumes with no trial lost or repeated."""

import contextlib
import os
import random
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from jaxdiag.cli import main
from jaxdiag.experiment.config import dict_to_toml
from jaxdiag.search import TrialStore
from jaxdiag.search.hosts import from_primary, initialize, is_primary, to_host

# the sweep of test_search_sweep.py, with fewer populations, a smaller MLP and checkpoints
CONFIG = tomllib.loads((Path(__file__).parent / "tiny_sweep.toml").read_text())
CONFIG["populations"], CONFIG["model"]["hidden"] = 2, [16]
CONFIG["train"]["checkpoint_every"] = 10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _job(config, runs_dir) -> list[subprocess.Popen]:
    """The two processes of one job, each with two CPU devices."""
    port = _free_port()
    env = dict(os.environ, JAX_PLATFORMS="cpu",
               XLA_FLAGS="--xla_force_host_platform_device_count=2")
    return [subprocess.Popen(
        [sys.executable, "-m", "jaxdiag.cli", "sweep", str(config), "--runs-dir", str(runs_dir),
         "--no-progress", "--coordinator", f"localhost:{port}", "--num-processes", "2",
         "--process-id", str(i)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True) for i in range(2)]


def _trials(runs_dir) -> list[dict]:
    path = runs_dir / "tiny" / "trials.sqlite"
    return TrialStore(path).trials() if path.exists() else []


def _same(trials, expected) -> None:
    keys = ("id", "population", "hparams", "status", "steps", "failed_at", "dev_error")
    assert [{k: t[k] for k in keys} for t in trials] == [{k: t[k] for k in keys}
                                                         for t in expected]
    np.testing.assert_allclose([t["dev_loss"] for t in trials],
                               [t["dev_loss"] for t in expected], rtol=2e-5)
    for t, e in zip(trials, expected, strict=True):
        assert t["rungs"].keys() == e["rungs"].keys()
        np.testing.assert_allclose(list(t["rungs"].values()), list(e["rungs"].values()),
                                   rtol=2e-5)


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    """The config file and the trials of the sweep on this process's one CPU device."""
    folder = tmp_path_factory.mktemp("hosts")
    config = folder / "sweep.toml"
    config.write_text(dict_to_toml(CONFIG))
    assert main(["sweep", str(config), "--runs-dir", str(folder / "one"), "--no-progress"]) == 0
    expected = _trials(folder / "one")
    assert len(expected) == 8 and {t["status"] for t in expected} == {"complete", "stopped"}
    return config, expected


def test_a_killed_two_process_sweep_resumes_to_the_trials_of_one_process(tmp_path, one_process):
    config, expected = one_process
    killed = tmp_path / "killed"
    delay = random.uniform(2.0, 14.0)  # the whole job takes 12-16 s on 2 cores
    processes = _job(config, killed)
    with contextlib.suppress(subprocess.TimeoutExpired):
        processes[0].wait(timeout=delay)
    for process in processes:  # the whole job, as a scheduler kills it
        process.kill()
        process.wait()
    before = [t for t in _trials(killed) if t["status"] != "running"]
    processes = _job(config, killed)
    for process in processes:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr[-3000:]
    message = f"killed after {delay:.1f} s with {len(before)} trials finished"
    after = _trials(killed)
    _same(after, expected)
    assert [t["id"] for t in after[:len(before)]] == [t["id"] for t in before], message


def test_a_folder_process_0_refuses_ends_every_process_with_its_reason(tmp_path, one_process):
    config, _ = one_process
    foreign = tmp_path / "runs" / "tiny"
    foreign.mkdir(parents=True)
    (foreign / "notes.txt").write_text("mine")  # a folder jaxdiag did not make
    processes = _job(config, tmp_path / "runs")
    errors = [process.communicate(timeout=120)[1] for process in processes]
    assert [process.returncode for process in processes] == [2, 2], errors
    assert "found a folder it did not make" in errors[0], errors[0][-2000:]
    assert "process 0 of the job" in errors[1] and "did not make" in errors[1], errors[1][-2000:]
    assert (foreign / "notes.txt").read_text() == "mine"


# 12 s: a fresh process compiles everything; the default run's two-process test already
# shards the members over 4 devices of 2 processes
@pytest.mark.slow
def test_four_devices_of_one_process_train_the_trials_of_one(tmp_path, one_process,
                                                              on_four_cpu_devices):
    config, expected = one_process
    four = tmp_path / "four"
    assert on_four_cpu_devices(
        "import contextlib, io, json\nfrom jaxdiag.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main(['sweep', {str(config)!r}, '--runs-dir', {str(four)!r}, "
        "'--no-progress'])\n"
        "print(json.dumps(code))\n") == 0
    _same(_trials(four), expected)


def test_one_process_is_the_identity_and_bad_job_arguments_are_named():
    assert is_primary()
    assert from_primary(lambda: {"points": [1.5]}) == {"points": [1.5]}
    np.testing.assert_array_equal(to_host({"a": np.arange(3)})["a"], np.arange(3))
    for args, match in ((("localhost:1", 0, 0), "num_processes: expected a positive integer"),
                        (("localhost:1", 2, 2), r"process_id: expected an integer in \[0, 2\)"),
                        (("localhost", 2, 0), "coordinator: expected host:port")):
        with pytest.raises(ValueError, match=match):
            initialize(*args)
    assert main(["sweep", "--coordinator", "localhost:1"]) == 2
