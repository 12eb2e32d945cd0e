import pytest

from jaxdiag.experiment import config_to_toml, load_config
from jaxdiag.experiment.multitask_config import MultiTaskConfig, TaskConfig

EXPERIMENTS = ("experiments/transfer_digits.toml", "experiments/multitask_digits.toml",
               "experiments/digits_0to4.toml", "experiments/transfer_digits_translate.toml",
               "experiments/digits_0to4_translate.toml")


@pytest.mark.parametrize("path", EXPERIMENTS)
def test_experiment_configs_load_and_round_trip(path, tmp_path):
    config = load_config(path, cls=MultiTaskConfig)
    (tmp_path / "saved.toml").write_text(config_to_toml(config))
    assert load_config(tmp_path / "saved.toml", cls=MultiTaskConfig) == config


def test_overrides_reach_nested_tables_and_task_lists():
    config = load_config("experiments/multitask_digits.toml",
                         ["optimizer.learning_rate=1e-2", "train.patience=0",
                          'tasks=[{name="odd", kind="binary", positive=[1, 3]}]'],
                         cls=MultiTaskConfig)
    assert config.optimizer.learning_rate == 1e-2 and config.train.patience == 0
    assert config.tasks == (TaskConfig("odd", "binary", (1, 3)),)


@pytest.mark.parametrize("overrides,message", [
    (["train.stpes=3"], "config key 'train.stpes': unknown key"),
    (["train.steps=\"many\""], "config key 'train.steps': expected an integer, found 'many'"),
    (['tasks=[{name="a", colour=1}]'], "config key 'tasks[0].colour': unknown key"),
    (['tasks=[{name="a", kind="binary"}]'], "config key 'tasks.a.positive'"),
    (['tasks=[{name="a"}, {name="a"}]'], "config key 'tasks': expected distinct task names"),
    (["train.select=\"b.f1\""], "config key 'train.select': expected a task from"),
    (["train.select=\"f1\""], "config key 'train.select': expected 'loss' or 'accuracy'"),
    (['transfer.mode="full"'], "config key 'transfer.source'"),
    (["transfer.trunk_lr_scale=0"], "config key 'transfer.trunk_lr_scale'"),
    (["transfer.probe_steps=-1"], "config key 'transfer.probe_steps'"),
    (["data.missing_fraction=1.0"], "config key 'data.missing_fraction'"),
    (["data.translate=-1"], "config key 'data.translate': expected an integer >= 0, found -1"),
    (['train.select=""'], "config key 'train.select': expected a dev metric"),
    (['train.select="label.error"'], "config key 'train.select': expected 'loss' or 'accuracy'"),
    (['model.name="resnet"'], "config key 'model.name'"),
    (["study.seeds=[1]"], "config key 'study.arms': expected arms and seeds given together"),
])
def test_config_errors_name_the_key(overrides, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_config(None, overrides, cls=MultiTaskConfig)
