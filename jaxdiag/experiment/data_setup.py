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


def load_splits(config: DataConfig, unlabelled_target_fraction: float = 0.0
                ) -> dict[str, Split]:
    """train / train_dev / dev / test (and test_source for a synthetic shift) per ``config``;
    with ``unlabelled_target_fraction``, also target_unlabelled (``make_splits``).

    Raises:
      ValueError: an unlabelled target split asked of data with no target domain.
    """
    source = load_dataset(config.source, config.label_column, "data.source")
    kind = target_kind(config.target, source)
    if kind == "shift":
        target: Dataset | DomainShift | None = DomainShift(
            config.blur_sigma, config.contrast, config.noise_std)
    elif kind == "source":
        target = None
    else:
        target = load_dataset(config.target, config.label_column, "data.target")
    if unlabelled_target_fraction and target is None:
        raise ValueError(
            f"config key 'data.target': expected a target domain ('shift' for images, or a "
            f"file of target examples) for domain adaptation, found {config.target!r} (the "
            f"dev and test data are source examples here).")
    return make_splits(source, target, target_fraction=config.target_fraction,
                       train_dev_fraction=config.train_dev_fraction,
                       unlabelled_target_fraction=unlabelled_target_fraction, seed=config.seed)


def target_kind(target: str, source: Dataset) -> str:
    """What ``data.target`` means for ``source``: "shift", "source" or "file"; "auto" is
    "shift" for images (inputs of shape (h, w, c)) and "source" for anything else."""
    if target == "auto":
        return "shift" if len(source.input_shape) == 3 else "source"
    return target if target in ("shift", "source") else "file"


def load_dataset(name: str, label_column: str, key: str) -> Dataset:
    """The built-in data set ``name`` or the .npz / .csv file at path ``name``.

    Raises:
      ValueError: ``name`` is neither, naming the config ``key``; or the file is unreadable.
    """
    if name == "digits":
        return load_digits()
    if not Path(name).suffix:
        raise ValueError(
            f"config key {key!r}: expected a built-in data set {BUILTIN_NAMES} or a path to a "
            f".npz or .csv file, found {name!r}."
        )
    return load_file(name, label_column=label_column)
