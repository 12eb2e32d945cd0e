"""Shared fixtures: float32 / float64 mode with its tolerance; one short finished run; one
compilation cache per run; a process with four CPU devices; TensorBoard's events read back."""

import contextlib
import io
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import filelock
import jax
import pytest
from tensorboardX.proto.event_pb2 import Event

from jaxdiag.experiment.compilation_cache import (
    ENVIRONMENT_VARIABLE,
    MIN_SECONDS_VARIABLE,
    default_cache_dir,
    enable_compilation_cache,
)

# The suite's thousands of programs: JAX's LRU lists every entry before each write, so caching
# the quickest ones too (the commands' default) would make the cold cache's writes quadratic.
SUITE_MIN_COMPILE_SECONDS = "0.2"


def pytest_configure(config):
    """One persistent compilation cache shared by the xdist workers and the commands the tests
    start (the controller sets the variable, the workers inherit it): the suite's own folder
    beside the commands' (``~/.cache/jaxdiag/xla-tests``), kept from run to run, so a second
    run on a machine reads back what the first compiled. JAX keys every entry by the program,
    jaxlib and the device, so a kept entry is never a stale one. ``JAXDIAG_COMPILATION_CACHE``
    set by the caller wins (``off``: none)."""
    if not hasattr(config, "workerinput") and ENVIRONMENT_VARIABLE not in os.environ:
        os.environ[ENVIRONMENT_VARIABLE] = str(default_cache_dir().with_name("xla-tests"))
        os.environ.setdefault(MIN_SECONDS_VARIABLE, SUITE_MIN_COMPILE_SECONDS)
        config.jaxdiag_cache = True
    enable_compilation_cache()


def pytest_unconfigure(config):
    if getattr(config, "jaxdiag_cache", False):
        del os.environ[ENVIRONMENT_VARIABLE]
        if os.environ.get(MIN_SECONDS_VARIABLE) == SUITE_MIN_COMPILE_SECONDS:
            del os.environ[MIN_SECONDS_VARIABLE]


@pytest.fixture(params=["float32", "float64"])
def tolerance(request):
    """Enter JAX's float32 or float64 mode for the test; yields the agreed tolerance."""
    with jax.enable_x64(request.param == "float64"):
        yield 1e-5 if request.param == "float32" else 1e-6


FAST_RUN = ["--set", "train.steps=400", "--set", "train.eval_every=200",
            "--set", "train.checkpoint_every=200", "--set", "model.hidden=[32]",
            "--set", "optimizer.learning_rate=3e-3", "--set", "diagnose.population_steps=200",
            "--set", "diagnose.overfit_steps=200", "--set", "diagnose.lr_range_steps=20",
            "--no-progress"]


@pytest.fixture(scope="session")
def fast_args() -> list[str]:
    """`jaxdiag run` options for a run of a few seconds: 400 steps of a 32-unit MLP."""
    return list(FAST_RUN)


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory) -> tuple[dict, Path]:
    """One short `jaxdiag run --json` with every section (a 4-trial search included), shared by
    the CLI and report tests: (the report it printed, its run folder). Made once per pytest
    run, not once per xdist worker: the first worker to ask runs it under a file lock in the
    run's shared temporary folder, the others read what it printed. The tests only read it."""
    from jaxdiag.cli import main

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # pytest-N/
    runs_dir, printed = shared / "finished-run", shared / "finished-run.json"
    with filelock.FileLock(shared / "finished-run.lock"):
        if not printed.exists():
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                code = main(["run", "--json", "--runs-dir", str(runs_dir), *FAST_RUN,
                             "--set", "search.trials=4", "--set", "search.steps=60"])
            assert code == 0
            printed.write_text(out.getvalue())
    return json.loads(printed.read_text()), runs_dir / "digits-mlp"


@pytest.fixture(scope="session")
def on_four_cpu_devices():
    """``run(code) -> the JSON it prints``: Python ``code`` run in a fresh process with four
    CPU devices and this folder importable (``from test_x import ...``)."""

    def run(code: str):
        env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4",
                   JAX_PLATFORMS="cpu")
        prelude = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
                   "import jax; assert len(jax.local_devices()) == 4\n")
        out = subprocess.run([sys.executable, "-c", prelude + code], env=env,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        return json.loads(out.stdout)

    return run


@pytest.fixture(scope="session")
def tensorboard_values():
    """``read(folder) -> {(tag, step): summary value}`` (a scalar or a histogram) of every
    event file in ``folder``, later events replacing earlier ones (as TensorBoard shows a
    resumed run: a purge drops what a killed run wrote past its checkpoint)."""

    def read(folder: Path) -> dict:
        values = {}
        for path in sorted(Path(folder).glob("events.out.tfevents.*")):
            data = path.read_bytes()
            at = 0
            while at < len(data):
                (length,) = struct.unpack("<Q", data[at:at + 8])
                event = Event.FromString(data[at + 12:at + 12 + length])
                at += 12 + length + 4
                for value in event.summary.value:
                    values[value.tag, event.step] = value
        return values

    return read


@pytest.fixture(scope="session")
def tensorboard_scalars(tensorboard_values):
    """``read(folder) -> {(tag, step): float}`` of the scalars in ``folder``'s events."""
    return lambda folder: {key: v.simple_value for key, v in tensorboard_values(folder).items()
                           if not v.HasField("histo")}
