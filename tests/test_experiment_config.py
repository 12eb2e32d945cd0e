import pytest

from jaxdiag.experiment import RunConfig, config_to_toml, first_difference, load_config
from jaxdiag.experiment.config import config_to_dict


def test_defaults_are_the_methodology_starting_point():
    config = load_config()
    assert config == RunConfig()
    assert config.optimizer.name == "adam" and config.optimizer.learning_rate == 3e-4
    assert config.model.activation == "relu" and config.optimizer.weight_decay == 0.0
    assert config.human_error == 0.005


def test_toml_round_trip_and_overrides(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('name = "x"\n[model]\nhidden = [32]\n[train]\nsteps = 100\n')
    config = load_config(path, ["seed=4", "data.source=my.csv", "model.hidden=[8, 8]"])
    assert config.name == "x" and config.train.steps == 100 and config.seed == 4
    assert config.data.source == "my.csv" and config.model.hidden == (8, 8)
    (tmp_path / "saved.toml").write_text(config_to_toml(config))
    assert load_config(tmp_path / "saved.toml") == config
    other = load_config(path, ["seed=5"])
    assert first_difference(config_to_dict(config), config_to_dict(other)).startswith("data.source")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["trian.steps=1"], r"'trian': unknown key; expected one of \['data'"),
        (["train.stepz=1"], "'train.stepz': unknown key"),
        (["train.steps=1.5"], "'train.steps': expected an integer, found 1.5"),
        (["train.steps=true"], "'train.steps': expected an integer, found True"),
        (["train.steps=0"], "'train.steps': expected a positive integer, found 0"),
        (['train.select="f1"'], "config key 'train.select': expected one of"),
        (['train.select=""', "train.patience=2"], "'train.patience': expected 0 when"),
        (["optimizer.learning_rate=-1"], "'optimizer.learning_rate': expected a value > 0"),
        (["optimizer.name=rmsprop"], "'optimizer.name': expected one of"),
        (["model.hidden=[8, 0]"], "'model.hidden': expected positive widths"),
        (["model.hidden=8"], "'model.hidden': expected a list of int"),
        (["data.contrast=0"], r"'data.contrast': expected a value in \(0, 1\]"),
        (["data.target_fraction=1"], "'data.target_fraction'"),
        (["human_error=5"], "'human_error': expected a fraction"),
        (["diagnose.label_error_plant=1.5"],
         r"'diagnose.label_error_plant': expected a share in \[0, 1\), found 1.5"),
        (["diagnose.label_error_rate=-0.1"], "'diagnose.label_error_rate': expected a rate"),
        (["name=a/b"], "'name': expected one folder name"),
        (["seed=99999999999999999999"], r"'seed': expected an integer seed in \[0, 2"),
        (["optimizer.learning_rate=inf"], "'optimizer.learning_rate': expected a finite number"),
        (["optimizer.learning_rate=nan"], "'optimizer.learning_rate': expected a finite number"),
        (["train=3"], "'train': expected a table"),
        (["steps"], "'--set': expected KEY=VALUE"),
    ],
)
def test_config_errors_name_the_key(overrides, message):
    with pytest.raises(ValueError, match=message):
        load_config(None, overrides)


def test_config_file_errors(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        load_config(tmp_path / "absent.toml")
    (tmp_path / "bad.toml").write_text("steps = = 3")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_config(tmp_path / "bad.toml")


def test_the_model_section_names_a_built_in_model_or_an_entry_point():
    assert load_config(None, ['model.name="mypkg.nets:make_net"']).model.is_entry_point
    assert not load_config(None, ['model.name="cnn"']).model.is_entry_point
    for bad in ("resnet", "mypkg.nets", ":make", "mypkg:make-net"):
        with pytest.raises(ValueError, match=r"config key 'model\.name': expected one of"):
            load_config(None, [f'model.name="{bad}"'])


def test_a_section_given_in_part_keeps_its_root_s_defaults():
    from jaxdiag.experiment.multitask_config import MultiTaskConfig
    from jaxdiag.search import load_sweep_config

    train = load_config(None, ["train.batch_size=32", "optimizer.momentum=0.5"],
                        cls=MultiTaskConfig)
    assert (train.train.steps, train.train.checkpoint_every, train.train.batch_size) == (
        2000, 100, 32)
    assert train.optimizer.learning_rate == 1e-3  # jaxdiag train's, not jaxdiag run's 3e-4
    sweep = load_sweep_config(None, ["train.batch_size=32", 'model.activation="tanh"'])[0]
    assert (sweep.train.steps, sweep.model.hidden, sweep.optimizer.name) == (300, (64, 64), "sgd")
    assert load_config(None, ["train.batch_size=32"]).train.steps == 3000
