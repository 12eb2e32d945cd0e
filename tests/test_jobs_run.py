import dataclasses
import json

import flax.linen as nn
import jax
import numpy as np
import pytest
from flax import nnx

from jaxdiag.experiment import load_config
from jaxdiag.jobs.run import run_main_job
from jaxdiag.report import render_report
from jaxdiag.report.text_summary import ONE_SEED, format_summary


def _linear(params, x):
    return x.reshape(len(x), -1) @ params["w"] + params["b"]


def test_your_own_plain_function_is_trained_diagnosed_and_reported(tmp_path):
    config = load_config(None, ["name='linear'", "train.steps=200", "train.eval_every=100",
                                "train.checkpoint_every=100", "optimizer.learning_rate=1e-2",
                                "train.seeds=3",
                                "diagnose.overfit_steps=50", "diagnose.label_errors=false",
                                "diagnose.learning_curve=false", "diagnose.lr_range=false",
                                "search.trials=0"])
    params = {"w": np.zeros((64, 10), np.float32), "b": np.zeros(10, np.float32)}
    report = run_main_job(config, tmp_path, progress=False, model=(_linear, params))
    assert report["model"] == {"source": "yours", "class": "_linear", "parameters": 650}
    assert report["gradcheck"]["ok"] and set(report["gradcheck"]["leaves"]) == {"w", "b"}
    assert report["splits"]["train"]["accuracy"] > 0.9  # a linear model learns the digits
    histograms = report["layer_histograms"]
    assert histograms["first"]["activations"] == {} and sorted(histograms["last"]["gradients"]) \
        == ["b", "w"]
    # train.seeds: the baseline trained 3 more times as one population (from the same weights,
    # seeds drawing the minibatches), every split's error with its spread over them
    seeds = report["seeds"]
    assert seeds["seeds"] == 3 and list(seeds["errors"]) == list(report["splits"])
    for name, errors in seeds["errors"].items():
        size = report["splits"][name]["size"]
        assert len(errors) == 3 and all(round(e * size) == pytest.approx(e * size)
                                        for e in errors)
        assert seeds["std"][name] == pytest.approx(np.std(errors, ddof=1))
        assert seeds["mean"][name] == pytest.approx(np.mean(errors))
    dev = report["splits"]["dev"]["error"]  # the same model, optimizer and steps
    assert abs(dev - seeds["mean"]["dev"]) < 4 * seeds["std"]["dev"] + 0.02
    html_path = render_report(tmp_path / "linear")
    assert "error over 3 seeds" in html_path.read_text() and ONE_SEED not in html_path.read_text()
    assert "over 3 seeds (mean ± sd): train " in format_summary(report, "report.json", None)
    sections = json.loads(html_path.with_name("report.json").read_text())["report"]["sections"]
    assert sections["histograms"]["figures"] == ["figures/gradient_histograms.png"]
    assert sections["pr_roc"]["status"] == "shown"

    with pytest.raises(ValueError, match=r"model: expected logits of shape \(batch, 10\).*"
                                         r"found \(2, 7\)"):
        run_main_job(config, tmp_path / "new", progress=False,
                     model=(_linear, {"w": params["w"][:, :7], "b": params["b"][:7]}))
    assert not (tmp_path / "new").exists()  # nothing written for a bad model


def test_shuffled_labels_make_the_label_mismatch_the_first_next_step(tmp_path):
    """The digits with every label shuffled: train-dev error sits at chance while the model
    memorizes train, and the report's first step is to check the join of features and labels
    (on the real labels the check passes: test_cli's finished run)."""
    from jaxdiag.data import load_digits

    digits = load_digits()
    shuffled = np.random.default_rng(0).permutation(digits.y)
    np.savez(tmp_path / "shuffled.npz", x=digits.x[..., 0], y=shuffled)
    config = load_config(None, [
        f"data.source={str(tmp_path / 'shuffled.npz')!r}", "train.steps=400",
        "train.eval_every=200", "train.checkpoint_every=200", "model.hidden=[64]",
        "optimizer.learning_rate=3e-3", "diagnose.overfit_steps=100",
        "diagnose.label_errors=false", "diagnose.learning_curve=false",
        "diagnose.lr_range=false", "search.trials=0"])
    report = run_main_job(config, tmp_path / "runs", progress=False)
    chance = next(c for c in report["sanity"]["checks"] if c["name"] == "chance_level")
    assert not chance["ok"] and chance["values"]["chance"] == pytest.approx(0.9, abs=0.02)
    first = report["next_steps"][0]
    assert first["stage"] == "debug" and first["action"].startswith("labels do not match")


def _tabular_csv(path, labels_shuffled: bool):
    """1,500 rows of 12 features in 3 learnable classes, as a researcher's CSV."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 1500)
    x = rng.normal(size=(1500, 12)) + 1.5 * np.eye(3, 12)[y]
    if labels_shuffled:
        y = rng.permutation(y)
    rows = [",".join([*(f"{v:.4f}" for v in row), str(label)])
            for row, label in zip(x, y, strict=True)]
    path.write_text(",".join([*(f"f{i}" for i in range(12)), "label"]) + "\n"
                    + "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("shuffled", [pytest.param(False, marks=pytest.mark.slow), True])
def test_tabular_data_gets_no_image_shift_and_its_shuffled_labels_are_caught(tmp_path, shuffled):
    """Issue 27: tabular inputs keep dev/test in the source domain and the report says why;
    a default human-level error is flagged as a guess; shuffled labels make the label/input
    mismatch the first next step, and real labels never do."""
    source = _tabular_csv(tmp_path / "table.csv", shuffled)
    config = load_config(None, [
        f"data.source={str(source)!r}", "train.steps=300", "train.eval_every=100",
        "train.checkpoint_every=300", "model.hidden=[64]", "optimizer.learning_rate=3e-3",
        "diagnose.overfit_steps=50", "diagnose.label_errors=false",
        "diagnose.learning_curve=false", "diagnose.lr_range=false",
                                "search.trials=0"])
    report = run_main_job(config, tmp_path / "runs", progress=False)
    assert report["data"]["target"] == "source" and "test_source" not in report["splits"]
    assert {s["domain"] for s in report["splits"].values()} == {"source"}
    tabular, human = report["data"]["notes"]
    assert "inputs are tabular" in tabular and "no synthetic shift" in tabular
    assert "human_error is the default 0.5%" in human and "--set human_error=" in human
    first = report["next_steps"][0]
    mismatch = first["stage"] == "debug" and first["action"].startswith("labels do not match")
    assert mismatch == shuffled, first
    assert not shuffled or not any(s["action"].startswith("labels do not match")
                                   for s in report["next_steps"][1:])
    # remedies that need a target domain say so before anything is trained or written
    with pytest.raises(ValueError, match="'remedy': 'synthesis' imitates the built-in shift"):
        run_main_job(dataclasses.replace(config, remedy="synthesis"), tmp_path / "new")
    with pytest.raises(ValueError, match=r"'data\.target': expected a target domain"):
        run_main_job(dataclasses.replace(config, remedy="coral"), tmp_path / "new")
    assert not (tmp_path / "new").exists()


# 23 s; the refusals above and test_diagnose_remedy_effect keep the remedy in the default run
@pytest.mark.slow
def test_a_remedy_is_measured_against_the_model_and_leaves_the_baseline_alone(tmp_path):
    """Digits 0-4 at a tenth of their examples: the label check names the rebalancing
    remedies; with remedy = class_weights the run trains weight 0 and 1 x 3 seeds as one
    population, reports each split with and without, and its baseline is bit for bit the run
    without the remedy."""
    from jaxdiag.data import load_digits

    digits = load_digits()
    keep = (digits.y >= 5) | (np.arange(len(digits.y)) % 10 == 0)
    np.savez(tmp_path / "imbalanced.npz", x=digits.x[keep], y=digits.y[keep])
    settings = [f"data.source={str(tmp_path / 'imbalanced.npz')!r}", "train.steps=100",
                "train.eval_every=100", "train.checkpoint_every=100", "model.hidden=[16]",
                "optimizer.learning_rate=3e-3", "diagnose.overfit_steps=50",
                "diagnose.label_errors=false", "diagnose.learning_curve=false",
                "diagnose.lr_range=false", "search.trials=0"]
    plain = run_main_job(load_config(None, [*settings, "name='plain'"]), tmp_path,
                         progress=False)
    report = run_main_job(load_config(None, [*settings, "name='weighted'",
                                             "remedy='class_weights'", "remedy_weights=[1.0]"]),
                          tmp_path, progress=False)
    labels = next(c for c in report["sanity"]["checks"] if c["name"] == "labels")
    assert not labels["ok"] and "remedy=class_weights" in labels["causes"][0]
    for key in ("splits", "history", "bias_variance", "uncertainty"):
        assert report[key] == plain[key], key
    assert plain["remedy"] is None
    remedy = report["remedy"]
    assert remedy["weights"] == [0.0, 1.0] and remedy["seeds"] == 3 and remedy["picked"] == 1.0
    for name, errors in remedy["errors"].items():
        assert np.shape(errors) == (2, 3)
        assert remedy["before"][name] == pytest.approx(np.mean(errors[0]))
        assert remedy["after"][name] == pytest.approx(np.mean(errors[1]))
    assert set(remedy["gaps"]["before"]) == {"avoidable_bias", "variance", "data_mismatch",
                                             "dev_overfitting"}
    assert any("class_weights" in s["action"] and s["why"] == remedy["message"]
               for s in report["next_steps"])


class _NNXNet(nnx.Module):
    """A user's NNX model with BatchNorm and Dropout (the model that used to crash the job)."""

    def __init__(self, rngs: nnx.Rngs):
        self.dense = nnx.Linear(64, 32, use_bias=False, rngs=rngs)
        self.norm = nnx.BatchNorm(32, rngs=rngs)
        self.drop = nnx.Dropout(0.2, rngs=rngs)
        self.out = nnx.Linear(32, 10, rngs=rngs)

    def __call__(self, x):
        return self.out(self.drop(nnx.relu(self.norm(self.dense(x.reshape(len(x), -1))))))


class _LinenNet(nn.Module):
    @nn.compact
    def __call__(self, x, train: bool = False):
        h = nn.Dense(32, use_bias=False)(x.reshape(len(x), -1))
        return nn.Dense(10)(nn.relu(nn.BatchNorm(use_running_average=not train)(h)))


def _short(name: str, *extra: str):
    return load_config(None, [f"name={name!r}", "train.steps=100", "train.eval_every=100",
                              "train.checkpoint_every=100", "diagnose.overfit_steps=20",
                              "diagnose.population_steps=60", "diagnose.learning_curve=false",
                              "diagnose.lr_range=false",
                              *extra])


def test_a_user_nnx_model_with_batchnorm_and_dropout_runs_everywhere(tmp_path):
    """Baseline, gradcheck, monitor and the label-error folds all train the user's model."""
    report = run_main_job(_short("nnx", "search.trials=0", "optimizer.learning_rate=1e-2",
                                 "diagnose.label_error_folds=2"),
                          tmp_path, progress=False,
                          model=lambda key: _NNXNet(nnx.Rngs(key)))
    assert report["model"]["class"] == "_NNXNet" and report["gradcheck"]["ok"]
    assert sorted(report["gradcheck"]["leaves"]) == [
        "dense/kernel", "norm/bias", "norm/scale", "out/bias", "out/kernel"]
    assert report["monitor"]["activation_kinds"]["norm"] == "relu"
    assert not [a for a in report["monitor"]["alerts"] if a["kind"] == "vanishing gradients"]
    assert report["label_errors"]["model"] == "_NNXNet"
    assert report["splits"]["train"]["accuracy"] > 0.8


# 16 s; the NNX model's test above runs a user's model through every population
@pytest.mark.slow
def test_a_user_linen_model_with_batchnorm_is_searched_as_itself(tmp_path):
    x = np.zeros((1, 8, 8, 1), np.float32)
    report = run_main_job(_short("linen", "diagnose.label_errors=false", "search.trials=2",
                                 "search.steps=40"), tmp_path, progress=False,
                          model=(_LinenNet(), _LinenNet().init(jax.random.key(0), x)))
    assert report["model"]["class"] == "_LinenNet" and report["gradcheck"]["ok"]
    assert report["search"]["model"] == "_LinenNet"
    assert sorted(report["search"]["space"]) == ["learning_rate", "weight_decay"]  # no dropout
    assert report["search"]["counts"]["complete"] == 2
