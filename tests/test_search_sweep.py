import contextlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from jaxdiag.cli import main
from jaxdiag.search import TrialStore, load_sweep_config

CONFIG = (Path(__file__).parent / "tiny_sweep.toml").read_text()


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text(CONFIG)
    return path


def comparable(trials):
    return [{k: t[k] for k in ("id", "population", "hparams", "status", "dev_error", "steps",
                               "rungs")} for t in trials]


# 20 s; the default run kills and resumes a two-process sweep (test_search_hosts.py), whose
# process 0 runs this same store and resume code
@pytest.mark.slow
def test_a_sweep_killed_at_a_random_point_resumes_with_nothing_lost_or_repeated(
        tmp_path, config_file, capsys):
    reference = tmp_path / "reference"
    assert main(["sweep", str(config_file), "--runs-dir", str(reference), "--no-progress",
                 "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    expected = TrialStore(reference / "tiny" / "trials.sqlite").trials()
    assert len(expected) == 12 and summary["trials"] == 12
    assert {t["status"] for t in expected} <= {"complete", "stopped", "failed"}
    for population in range(3):  # halving keeps half of the running members
        members = [t for t in expected if t["population"] == population]
        running = [t for t in members if t["status"] != "failed"]
        assert sum(t["status"] == "complete" for t in members) == -(-len(running) // 2)
    assert summary["best"] == summary["leaderboard"][0]
    assert summary["best"]["dev_error"] == min(t["dev_error"] for t in expected
                                               if t["status"] == "complete")
    sessions = sorted((reference / "tiny" / "tensorboard").glob("trial_*"))
    assert [p.name for p in sessions] == [f"trial_{i:05d}" for i in range(12)]
    assert all(list(p.glob("events.out.tfevents.*")) for p in sessions)  # hparams per trial

    killed = tmp_path / "killed"
    delay = random.uniform(1.0, 12.0)  # the whole sweep takes 9-16 s on 2 cores
    process = subprocess.Popen(
        [sys.executable, "-m", "jaxdiag.cli", "sweep", str(config_file), "--runs-dir",
         str(killed), "--no-progress"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env=dict(os.environ, JAX_PLATFORMS="cpu"))
    with contextlib.suppress(subprocess.TimeoutExpired):  # done before the delay: no wait
        process.wait(timeout=delay)
    process.kill()
    process.wait()
    store_path = killed / "tiny" / "trials.sqlite"
    before = TrialStore(store_path).trials() if store_path.exists() else []
    assert main(["sweep", str(config_file), "--runs-dir", str(killed), "--no-progress"]) == 0
    capsys.readouterr()
    after = TrialStore(store_path).trials()
    message = f"killed after {delay:.1f} s with {len(before)} trials recorded"
    assert comparable(after) == comparable(expected), message
    finished_before = [t for t in comparable(before) if t["status"] != "running"]
    assert finished_before == comparable(after)[:len(finished_before)], message


def test_shapes_are_trained_in_buckets(tmp_path, capsys, tensorboard_scalars):
    args = ["sweep", "--runs-dir", str(tmp_path), "--no-progress", "--json",
            "--set", "sampler=\"grid\"", "--set", "points_per_axis=2",
            "--set", "populations=1", "--set", "population_size=4",
            "--set", "train.steps=20", "--set", "model.hidden=[8, 8]",
            "--set", "space.width={type=\"categorical\", choices=[8, 24]}",
            "--set", "space.learning_rate={type=\"log_uniform\", low=0.01, high=0.1}"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    trials = TrialStore(tmp_path / "digits-sweep" / "trials.sqlite").trials()
    assert sorted((t["hparams"]["width"], round(t["hparams"]["learning_rate"], 6))
                  for t in trials) == [(8, 0.01), (8, 0.1), (24, 0.01), (24, 0.1)]
    assert all(t["status"] == "complete" and t["steps"] == 20 for t in trials)
    assert len(summary["leaderboard"]) == 4
    events = tmp_path / "digits-sweep" / "tensorboard" / "population-0"
    for bucket in ("bucket-0", "bucket-1"):  # a width each, two members in each
        scalars = tensorboard_scalars(events / bucket)
        assert scalars["population/running", 20] == 2
        errors = [t["dev_error"] for t in trials
                  if t["hparams"]["width"] == (8 if bucket == "bucket-0" else 24)]
        assert scalars["population/dev_error_best", 20] == pytest.approx(min(errors))


def test_a_changed_config_is_refused_and_bad_keys_are_named(tmp_path, config_file, capsys):
    args = ["sweep", str(config_file), "--runs-dir", str(tmp_path), "--no-progress",
            "--set", "populations=1", "--set", "train.steps=10", "--set", "halving.rungs=[]"]
    assert main(args) == 0
    assert main([*args, "--set", "seed=1"]) == 2
    assert "holds a run with another config (first difference: seed" in capsys.readouterr().err
    with pytest.raises(ValueError, match=r"config key 'space.lr': expected one of"):
        load_sweep_config(None, ["space.lr.type=\"uniform\""])
    with pytest.raises(ValueError, match=r"config key 'sampler': expected one of"):
        load_sweep_config(config_file, ["sampler=\"bayes\""])
    with pytest.raises(ValueError, match=r"config key 'halving.rungs': expected steps below"):
        load_sweep_config(config_file, ["halving.rungs=[40]"])
    with pytest.raises(ValueError, match=r"config key 'train.batchsize': unknown key"):
        load_sweep_config(config_file, ["train.batchsize=3"])


USER_MODULE = '''
from flax import nnx


class Net(nnx.Module):
    def __init__(self, rngs):
        self.dense = nnx.Linear(64, 16, use_bias=False, rngs=rngs)
        self.norm = nnx.BatchNorm(16, rngs=rngs)
        self.out = nnx.Linear(16, 10, rngs=rngs)

    def __call__(self, x):
        return self.out(nnx.relu(self.norm(self.dense(x.reshape(len(x), -1)))))


def make_net(key):
    return Net(nnx.Rngs(key))
'''


def test_a_sweep_of_a_user_model_named_by_its_entry_point_reruns_from_its_config(
        tmp_path, monkeypatch, capsys):
    (tmp_path / "user_nets.py").write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    runs = tmp_path / "runs"
    args = ["--runs-dir", str(runs), "--no-progress", "--json"]
    assert main(["sweep", *args, "--set", "model.name=\"user_nets:make_net\"",
                 "--set", "name=\"mine\"", "--set", "populations=1", "--set", "population_size=3",
                 "--set", "train.steps=20", "--set", "optimizer.name=\"adam\"",
                 "--set", "space={learning_rate={type=\"log_uniform\", low=1e-3, high=1e-1}}"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["model"] == "Net" and summary["counts"]["complete"] == 3
    saved = runs / "mine" / "config.toml"
    assert 'name = "user_nets:make_net"' in saved.read_text()
    assert main(["sweep", str(saved), *args]) == 0  # the saved config, as it is: a resume
    assert json.loads(capsys.readouterr().out)["leaderboard"] == summary["leaderboard"]
    assert main(["sweep", *args, "--set", "model.name=\"user_nets:no_such\""]) == 2
    assert ("'model.name': expected 'user_nets' to define a function 'no_such'"
            in capsys.readouterr().err)
    assert main(["sweep", *args, "--set", "model.name=\"math:sqrt\""]) == 2  # not key -> model
    assert ("config key 'model.name' ('math:sqrt'): factory: expected a function key -> model, but "
            "calling it with a jax.random key raised TypeError") in capsys.readouterr().err
    assert main(["sweep", *args, "--set", "model.name=\"user_nets:make_net\"", "--set",
                 "name=\"other\"", "--set", "populations=1", "--set", "population_size=2",
                 "--set", "train.steps=10"]) == 0  # the default space, without dropout
    assert "[space.dropout]" not in (runs / "other" / "config.toml").read_text()
