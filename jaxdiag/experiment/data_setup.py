"""The splits a DataConfig describes, loaded and split."""

from pathlib import Path

from jaxdiag.data import (
    BUILTIN_NAMES,
    Dataset,
    DomainShift,
    Split,
    load_digits,
    load_file,
    make_splits,
)
from jaxdiag.experiment.config import DataConfig


def load_splits(config: DataConfig) -> dict[str, Split]:
    """train / train_dev / dev / test (and test_source for a synthetic shift) per ``config``."""
    source = _load(config.source, config, "data.source")
    if config.target == "shift":
        target: Dataset | DomainShift | None = DomainShift(
            config.blur_sigma, config.contrast, config.noise_std)
    elif config.target == "source":
        target = None
    else:
        target = _load(config.target, config, "data.target")
    return make_splits(source, target, target_fraction=config.target_fraction,
                       train_dev_fraction=config.train_dev_fraction, seed=config.seed)


def _load(name: str, config: DataConfig, key: str) -> Dataset:
    if name == "digits":
        return load_digits()
    if not Path(name).suffix:
        raise ValueError(
            f"config key {key!r}: expected a built-in data set {BUILTIN_NAMES} or a path to a "
            f".npz or .csv file, found {name!r}."
        )
    return load_file(name, label_column=config.label_column)
