import json

import numpy as np
import pytest

from jaxdiag.data import load_digits
from jaxdiag.experiment import load_config
from jaxdiag.experiment.multitask_config import MultiTaskConfig
from jaxdiag.experiment.task_data import task_splits
from jaxdiag.jobs.train import STUDY_FILE, SUMMARY_FILE, run_train_job

PRETRAIN = """
name = "tiny-0to4"
[data]
classes = [0, 1, 2, 3, 4]
[model]
hidden = [32]
[[tasks]]
name = "digit"
[optimizer]
learning_rate = 0.01
[train]
steps = 60
log_every = 30
eval_every = 30
"""

TRANSFER = """
name = "tiny-5to9"
[data]
classes = [5, 6, 7, 8, 9]
labels_per_class = 10
[model]
hidden = [32]
[[tasks]]
name = "digit"
[[tasks]]
name = "loop"
kind = "binary"
positive = [6, 8, 9]
[optimizer]
learning_rate = 0.01
[train]
steps = 60
log_every = 30
eval_every = 30
[transfer]
source = "pretrain.toml"
mode = "head_only"
"""


@pytest.fixture(scope="module")
def configs(tmp_path_factory):
    """A folder with pretrain.toml and transfer.toml (which names pretrain.toml as its source);
    runs go under its runs/, and the source run is trained once for the module."""
    folder = tmp_path_factory.mktemp("train_job")
    (folder / "pretrain.toml").write_text(PRETRAIN)
    (folder / "transfer.toml").write_text(TRANSFER)
    return folder


# 17 s; test_experiment_transfer keeps the frozen trunk in the default run
@pytest.mark.slow
def test_head_only_transfer_trains_its_source_first_and_keeps_the_trunk(configs):
    tmp_path, path = configs, configs / "transfer.toml"
    runs = tmp_path / "runs"
    config = load_config(path, cls=MultiTaskConfig)
    summary = run_train_job(config, runs, progress=False, config_dir=tmp_path)
    source = json.loads((runs / "tiny-0to4" / SUMMARY_FILE).read_text())
    assert source["training"]["steps_done"] == 60
    assert summary["transfer"] == {"mode": "head_only", "source_run": str(runs / "tiny-0to4"),
                                   "trunk_unchanged": True}
    assert summary["data"]["train"]["size"] == 50
    assert set(summary["test"]["tasks"]) == {"digit", "loop"}
    # With 10 labels per class the heads on the pretrained trunk beat chance by far.
    assert summary["test"]["tasks"]["digit"]["accuracy"] > 0.5
    assert json.loads((runs / "tiny-5to9" / SUMMARY_FILE).read_text())["test"] == \
        summary["test"]
    # Full fine-tuning moves the trunk; the finished source run is reused, not retrained.
    stamp = (runs / "tiny-0to4" / SUMMARY_FILE).stat().st_mtime_ns
    full = load_config(path, ['transfer.mode="full"', 'name="tiny-full"'], cls=MultiTaskConfig)
    assert run_train_job(full, runs, progress=False, config_dir=tmp_path)["transfer"][
        "trunk_unchanged"] is False
    assert (runs / "tiny-0to4" / SUMMARY_FILE).stat().st_mtime_ns == stamp


def test_a_trunk_of_other_shapes_is_an_error_naming_the_parameter(configs):
    tmp_path, path = configs, configs / "transfer.toml"
    config = load_config(path, ["model.hidden=[16]", 'name="other"'], cls=MultiTaskConfig)
    with pytest.raises(ValueError, match=r"trunk parameter 'dense_0.bias' has shape \(32,\) "
                                         r"there, expected \(16,\) here"):
        run_train_job(config, tmp_path / "runs", progress=False, config_dir=tmp_path)
    assert not (tmp_path / "runs" / "other").exists()


def test_a_study_runs_every_arm_and_seed_and_tabulates_the_test_metric(tmp_path):
    path = tmp_path / "transfer.toml"
    path.write_text(TRANSFER)
    config = load_config(path, [
        "train.steps=30", "study.seeds=[0, 1]", "study.metric=\"accuracy\"",
        'study.arms=[{name="scratch", set=["transfer.mode=\\"none\\""]}, '
        '{name="loop_only", set=["transfer.mode=\\"none\\"", '
        '"tasks=[{name=\\"loop\\", kind=\\"binary\\", positive=[6, 8, 9]}]"]}]'],
        cls=MultiTaskConfig)
    study = run_train_job(config, tmp_path / "runs", progress=False, config_dir=tmp_path)
    saved = json.loads((tmp_path / "runs" / "tiny-5to9" / STUDY_FILE).read_text())
    assert saved == study and study["tasks"] == ["digit", "loop"]
    assert set(study["arms"]["scratch"]) == {"digit", "loop"}
    assert set(study["arms"]["loop_only"]) == {"loop"}
    for arm, task in (("scratch", "digit"), ("loop_only", "loop")):
        values = [json.loads((tmp_path / "runs" / "tiny-5to9" / arm / f"seed-{s}" /
                              SUMMARY_FILE).read_text())["test"]["tasks"][task]["accuracy"]
                  for s in (0, 1)]
        cell = study["arms"][arm][task]
        assert cell["values"] == values
        np.testing.assert_allclose([cell["mean"], cell["std"]],
                                   [np.mean(values), np.std(values, ddof=1)])
    # A bad arm override is an error before anything runs.
    bad = load_config(path, ["study.seeds=[0]", 'study.arms=[{name="x", set=["train.x=1"]}]',
                             'name="bad-study"'], cls=MultiTaskConfig)
    with pytest.raises(ValueError, match=r"config key 'train\.x'"):
        run_train_job(bad, tmp_path / "runs", progress=False, config_dir=tmp_path)
    assert not (tmp_path / "runs" / "bad-study").exists()


def test_translations_need_images_and_move_the_training_images(tmp_path):
    table = tmp_path / "table.csv"
    rows = [f"{i % 7},{i % 3},{i % 2}" for i in range(60)]
    table.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    path = tmp_path / "pretrain.toml"
    path.write_text(PRETRAIN)
    config = load_config(path, [f'data.source="{table}"', "data.classes=[]",
                                "data.translate=1"], cls=MultiTaskConfig)
    with pytest.raises(ValueError, match=r"config key 'data.translate': expected 0 for "
                                         r"examples that are not images .* shape \(2,\)"):
        run_train_job(config, tmp_path / "runs", progress=False, config_dir=tmp_path)
    assert not (tmp_path / "runs").exists()
    losses = {}
    for translate in (0, 1):
        config = load_config(path, [f"data.translate={translate}", f'name="t{translate}"',
                                    "train.steps=30"], cls=MultiTaskConfig)
        summary = run_train_job(config, tmp_path / "runs", progress=False, config_dir=tmp_path)
        losses[translate] = summary["history"]["train_loss"]
    assert losses[0] != losses[1]


def test_a_multiclass_task_can_weigh_its_classes_and_balance_the_minibatches(tmp_path):
    """class_weights = "inverse" weighs the digit task's classes by n / (C n_c) of its training
    labels (so that every class weighs n / C in all), the binary task keeps its plain loss;
    data.balance_task draws the minibatches class-balanced (make_train_steps' test checks the
    rates)."""
    config = load_config(None, [
        'name="weighted"', "data.classes=[0, 1, 2, 3, 4]", "train.steps=10",
        'data.balance_task="digit"',
        "train.log_every=10", "train.eval_every=10",
        'tasks=[{name="digit", class_weights="inverse"}, '
        '{name="odd", kind="binary", positive=[1, 3]}]'], cls=MultiTaskConfig)
    summary = run_train_job(config, tmp_path, progress=False)
    assert set(summary["class_weights"]) == {"digit"}
    labelled = summary["data"]["train"]["size"]
    weights = np.array(summary["class_weights"]["digit"])
    assert weights.shape == (5,) and np.all(weights > 0)
    # n / (C n_c): the weighted counts n_c w_c are all n / C
    splits, _ = task_splits(load_digits(), config.data, config.tasks, config.seed)
    counts = np.bincount(splits["train"][1]["digit"], minlength=5)
    np.testing.assert_allclose(counts * weights, labelled / 5, rtol=1e-6)
    assert summary["training"]["steps_done"] == 10 and np.isfinite(summary["dev"]["loss"])
    assert summary["config"]["data"]["balance_task"] == "digit"
    with pytest.raises(ValueError, match=r"'data\.balance_task': expected '' or a multiclass"):
        load_config(None, ['data.balance_task="odd"',
                           'tasks=[{name="odd", kind="binary", positive=[1]}]'],
                    cls=MultiTaskConfig)
    with pytest.raises(ValueError, match=r"tasks\.odd\.class_weights"):
        load_config(None, ['tasks=[{name="odd", kind="binary", positive=[1], '
                           'class_weights="inverse"}]'], cls=MultiTaskConfig)


# 22 s; test_experiment_domain_adaptation keeps the losses in the default run
@pytest.mark.slow
def test_domain_adaptation_aligns_the_shared_trunk_under_several_heads(tmp_path):
    """adaptation.method on the digits: dev and test move into the built-in shift, a quarter of
    train is held out, shifted, as the unlabelled target inputs, and both heads train on the
    adapted trunk."""
    args = ['name="adapt"', "data.classes=[0, 1, 2, 3, 4]", "train.steps=10",
            "train.log_every=10", "train.eval_every=10",
            'tasks=[{name="digit"}, {name="odd", kind="binary", positive=[1, 3]}]']
    plain = run_train_job(load_config(None, [*args, 'name="plain"'], cls=MultiTaskConfig),
                          tmp_path, progress=False)
    assert plain["adaptation"] is None
    for method in ("coral", "dann"):
        summary = run_train_job(load_config(None, [*args, f'name="{method}"',
                                                   f'adaptation.method="{method}"',
                                                   "adaptation.weight=0.5"],
                                            cls=MultiTaskConfig), tmp_path, progress=False)
        held = summary["adaptation"]["unlabelled_target"]
        assert summary["adaptation"]["method"] == method
        assert held == round(0.25 * plain["data"]["train"]["size"])
        assert summary["data"]["train"]["size"] == plain["data"]["train"]["size"] - held
        assert summary["data"]["test"] == plain["data"]["test"]  # the same examples, shifted
        assert summary["test"]["tasks"]["digit"] != plain["test"]["tasks"]["digit"]
        assert set(summary["test"]["tasks"]) == {"digit", "odd"}
        assert np.isfinite(summary["history"]["train_loss"][-1][1])
    with pytest.raises(ValueError, match=r"'adaptation\.method': expected one of"):
        load_config(None, ['adaptation.method="mmd"'], cls=MultiTaskConfig)
    # the target's inputs from a file of the user's
    np.savez(tmp_path / "wide.npz", x=np.zeros((6, 5), np.float32), y=np.zeros(6, int))
    with pytest.raises(ValueError, match=r"'adaptation\.target': expected inputs of the "
                                         r"training examples' shape \(8, 8, 1\)"):
        run_train_job(load_config(None, [*args, 'name="wide"', 'adaptation.method="coral"',
                                         f'adaptation.target="{tmp_path / "wide.npz"}"'],
                                  cls=MultiTaskConfig), tmp_path, progress=False)
    digits = load_digits()
    np.savez(tmp_path / "target.npz", x=digits.x[:40] * 0.5, y=digits.y[:40])
    own = run_train_job(load_config(None, [*args, 'name="own"', 'adaptation.method="coral"',
                                           f'adaptation.target="{tmp_path / "target.npz"}"'],
                                    cls=MultiTaskConfig), tmp_path, progress=False)
    assert own["adaptation"]["unlabelled_target"] == 40
    assert own["data"] == plain["data"]  # the splits stay as they are
