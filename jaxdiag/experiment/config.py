"""The run config: typed dataclasses, loaded from TOML, overridden by ``KEY=VALUE``, saved back.

A run is fully described by its config (the big_vision habit): the resolved config is
written to the run folder as ``config.toml`` and can be run again as it is.
"""

import dataclasses
import json
import math
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NewType

from jaxdiag.checks import require
from jaxdiag.data import DomainShift
from jaxdiag.data.files import FLOAT32_MAX
from jaxdiag.models.activations import ACTIVATIONS

Seed = NewType("Seed", int)  # a config seed: an integer in [0, SEED_LIMIT)
SEED_LIMIT = 2**31
_CONTROL = frozenset(map(chr, [*range(32), 127]))


def require_key(ok: bool, key: str, expected: str, found: Any) -> None:
    """Raises ``ValueError("config key 'key': expected ..., found ...")`` unless ``ok``."""
    require(ok, f"config key {key!r}", expected, found)


def require_folder_name(name: str, key: str) -> None:
    """Raises the ``require_key`` error unless ``name`` is one folder name: the one rule of
    every command's run folder. Not empty, not ``.`` or ``..``, no ``/`` or ``\\``, no control
    character (NUL, newline...), at most 255 bytes in UTF-8."""
    ok = (isinstance(name, str) and name not in ("", ".", "..") and "/" not in name
          and "\\" not in name and not _CONTROL.intersection(name)
          and len(name.encode("utf-8", "surrogatepass")) <= 255)
    require_key(ok, key, "one folder name (not '.' or '..', no '/', '\\' or control "
                "characters, at most 255 bytes)", name)


@dataclass(frozen=True)
class DataConfig:
    """Where the examples come from and how they are split.

    source: "digits" (built in) or a path to a .npz / .csv file.
    target: the domain of dev and test: "shift" (held-out source examples moved into a
      synthetic target domain by blur_sigma, contrast and noise_std), "source" (held-out
      source examples as they are), a path to a file of target-domain examples, or "auto":
      "shift" for image inputs (n, h, w, c) and "source" for tabular ones (the synthetic
      shift imitates a worse camera; it means nothing for table columns).
    """

    source: str = "digits"
    target: str = "auto"
    label_column: str = "label"
    target_fraction: float = 0.4
    train_dev_fraction: float = 0.15
    blur_sigma: float = DomainShift.blur_sigma
    contrast: float = DomainShift.contrast
    noise_std: float = DomainShift.noise_std
    seed: Seed = 0

    def __post_init__(self):
        for name in ("target_fraction", "train_dev_fraction"):
            value = getattr(self, name)
            require_key(0 < value < 1, f"data.{name}", "a value in (0, 1)", value)
        try:
            DomainShift(self.blur_sigma, self.contrast, self.noise_std)
        except ValueError as e:  # "blur_sigma: expected ..." -> "config key 'data.blur_sigma': ..."
            name, _, problem = str(e).partition(": ")
            raise ValueError(f"config key 'data.{name}': {problem}") from None


BUILT_IN_MODELS = ("mlp", "cnn")
OPTIMIZERS = ("adam", "adamw", "sgd")
# jaxdiag.search.RemedyTask's remedies, with the weights the main job tries by default
REMEDY_WEIGHTS = {"synthesis": (0.25, 0.5, 1.0), "coral": (0.1, 1.0, 10.0),
                  "dann": (0.01, 0.03, 0.1), "class_weights": (0.5, 1.0),
                  "balanced": (0.5, 1.0)}
REMEDIES = tuple(REMEDY_WEIGHTS)
ADAPTATIONS = ("coral", "dann")  # the remedies that read the target's unlabelled inputs


@dataclass(frozen=True)
class ModelConfig:
    """The model of every command (the shared trunk of ``jaxdiag train``'s heads).

    name: "mlp" (dense layers of the ``hidden`` widths), "cnn" (images only: two 3x3
      convolutions of ``channels``, each pooled by 2, then a dense layer of ``hidden[-1]``)
      or, for ``jaxdiag run`` and ``jaxdiag sweep``, a Python entry point
      "package.module:function" naming a function ``key -> model`` (an NNX module, a
      (Linen module, variables) or an (apply_fn, params) pair); the other keys are then
      unused.
    activation: the hidden layers' activation, one of ``jaxdiag.models.ACTIVATIONS``.
    """

    name: str = "mlp"
    hidden: tuple[int, ...] = (128, 128)
    channels: tuple[int, int] = (16, 32)
    activation: str = "relu"

    @property
    def is_entry_point(self) -> bool:
        return self.name not in BUILT_IN_MODELS

    def __post_init__(self):
        module, colon, function = self.name.partition(":")
        require_key(self.name in BUILT_IN_MODELS or (module and colon and function.isidentifier()),
                    "model.name", f"one of {BUILT_IN_MODELS} or an entry point "
                    "'package.module:function'", self.name)
        require_key(all(h > 0 for h in self.hidden), "model.hidden", "positive widths",
                    self.hidden)
        require_key(self.name != "cnn" or bool(self.hidden), "model.hidden",
                    "at least one width for 'cnn' (its dense layer)", self.hidden)
        require_key(len(self.channels) == 2 and all(c > 0 for c in self.channels),
                    "model.channels", "two positive channel counts", self.channels)
        require_key(self.activation in ACTIVATIONS, "model.activation",
                    f"one of {sorted(ACTIVATIONS)}", self.activation)


@dataclass(frozen=True)
class OptimizerConfig:
    """The optimizer (``jaxdiag.experiment.optimizer``): "adam" (b1 = momentum, coupled
    weight decay), "adamw" (decoupled weight decay) or "sgd" (momentum, coupled weight
    decay), and its hyperparameters."""

    name: str = "adam"
    learning_rate: float = 3e-4
    weight_decay: float = 0.0
    momentum: float = 0.9

    def __post_init__(self):
        require_key(self.name in OPTIMIZERS, "optimizer.name", f"one of {OPTIMIZERS}", self.name)
        require_key(self.learning_rate > 0, "optimizer.learning_rate", "a value > 0",
                    self.learning_rate)
        require_key(self.weight_decay >= 0, "optimizer.weight_decay", "a value >= 0",
                    self.weight_decay)
        require_key(0 <= self.momentum < 1, "optimizer.momentum", "a value in [0, 1)",
                    self.momentum)


MINIMIZED_METRICS = ("loss", "error")  # the selectable metrics that are better lower
SELECTABLE_METRICS = (*MINIMIZED_METRICS, "accuracy", "f1", "roc_auc")


@dataclass(frozen=True)
class TrainConfig:
    """The training loop of every command: steps, batch size, and how often to log, evaluate
    and checkpoint (in steps); the dev metric that keeps the best weights and stops early.

    log_every: steps per compiled call (the training loss is logged once per call); dev is
      evaluated, and the latest checkpoint saved, after the call that reaches or passes each
      multiple of eval_every and of checkpoint_every, and at the last step.
    select: the dev metric whose best value keeps the weights in ``checkpoints/best``:
      "loss", "error", "accuracy" or (``jaxdiag train``) "<task>.<metric>" with a metric from
      loss, accuracy, f1, roc_auc; losses and errors are minimized, the rest maximized.
      Empty: no best checkpoint and no early stopping.
    patience: stop after this many evaluations without improvement (0: never stop early).
    seeds: ``jaxdiag run`` also trains this many copies of the baseline (its model, optimizer
      and hyperparameters, seeds drawn from the run's seed) as one population, and reports the
      spread of every split's error over them; 1: none.
    A sweep's members use steps and batch_size (they are not checkpointed one by one).
    """

    steps: int = 3000
    batch_size: int = 64
    log_every: int = 50
    eval_every: int = 100
    checkpoint_every: int = 500
    select: str = "loss"
    patience: int = 0
    seeds: int = 1

    def __post_init__(self):
        for name in ("steps", "batch_size", "log_every", "eval_every", "checkpoint_every",
                     "seeds"):
            value = getattr(self, name)
            require_key(value > 0, f"train.{name}", "a positive integer", value)
        require_key(self.patience >= 0, "train.patience", "an integer >= 0", self.patience)
        require_key(self.select == "" or self.select.rpartition(".")[2] in SELECTABLE_METRICS,
                    "train.select", f"'' (none), or a metric from {SELECTABLE_METRICS} (for "
                    "jaxdiag train: '<task>.<metric>')", self.select)
        require_key(self.select or not self.patience, "train.patience",
                    "0 when train.select is '' (nothing to be patient about)", self.patience)


@dataclass(frozen=True)
class SearchConfig:
    """The random search after the baseline: ``trials`` members of the run's model (the
    user's, or the configured built-in one) trained as one vmap population for ``steps`` steps
    (0 trials: no search). The space is the learning rate and weight decay around the
    baseline's optimizer, and dropout for the built-in MLP (whose rate is traced)."""

    trials: int = 16
    steps: int = 500

    def __post_init__(self):
        require_key(self.trials >= 0, "search.trials", "an integer >= 0", self.trials)
        require_key(self.steps > 0, "search.steps", "a positive integer", self.steps)


@dataclass(frozen=True)
class DiagnoseConfig:
    """The diagnoses around the baseline.

    overfit_steps, overfit_target_loss: the overfit-one-batch check's step budget and the loss
      it must reach on one training batch.
    label_errors: look for label errors by confident learning on the training split, with
      ``label_error_folds``-fold cross-validated copies of the run's model trained as one
      population.
    label_error_plant: the share of training labels flipped on purpose in a copy whose folds
      then run again, to measure how many label errors the folds find and how far down their
      ranking to review (``jaxdiag.diagnose.triage_label_errors``); 0 for no copy.
    label_error_rate: the data's label error rate when known (an audit of a random sample);
      with it the report estimates the flags' precision, without it (0) bounds it.
    learning_curve: train the run's model on 1/16 ... all of the training split as one
      population and fit a power law to the dev error.
    population_steps: training steps of each member of those two populations.
    lr_range: a learning-rate range test: 12 log-spaced rates in [1e-5, 1] x 3 seeds of the
      run's model, ``lr_range_steps`` steps each, as one population (Goodfellow 11.4.1).
    worst_mistakes: how many of the dev set's most confident mistakes to report (and draw).
    tags_file: a CSV "index,tag" of dev examples tagged by hand (Ng's error-analysis
      spreadsheet: "blurry", "mislabelled"...); report.json tallies each tag's share of the
      mistakes and its ceiling. Empty for none.
    """

    overfit_steps: int = 300
    overfit_target_loss: float = 0.05
    label_errors: bool = True
    label_error_folds: int = 5
    label_error_plant: float = 0.05
    label_error_rate: float = 0.0
    learning_curve: bool = True
    population_steps: int = 1000
    lr_range: bool = True
    lr_range_steps: int = 300
    worst_mistakes: int = 16
    tags_file: str = ""

    def __post_init__(self):
        require_key(self.overfit_steps >= 8, "diagnose.overfit_steps", "an integer >= 8",
                    self.overfit_steps)
        require_key(self.overfit_target_loss > 0, "diagnose.overfit_target_loss", "a value > 0",
                    self.overfit_target_loss)
        require_key(self.label_error_folds >= 2, "diagnose.label_error_folds",
                    "an integer >= 2", self.label_error_folds)
        require_key(0 <= self.label_error_plant < 1, "diagnose.label_error_plant",
                    "a share in [0, 1)", self.label_error_plant)
        require_key(0 <= self.label_error_rate < 1, "diagnose.label_error_rate",
                    "a rate in [0, 1) (0: unknown)", self.label_error_rate)
        require_key(self.lr_range_steps >= 10, "diagnose.lr_range_steps", "an integer >= 10",
                    self.lr_range_steps)
        for name in ("population_steps", "worst_mistakes"):
            value = getattr(self, name)
            require_key(value > 0, f"diagnose.{name}", "a positive integer", value)


@dataclass(frozen=True)
class RunConfig:
    """A whole run. human_error is the Bayes-error proxy of the bias/variance analysis; seed
    draws the model's initialization, minibatches and dropout (``data.seed`` the splits).

    remedy: "" for none, or one of ``REMEDIES`` to measure against the model as it is:
      "synthesis" (image data with a synthetic shift: target-like training inputs), "coral" or
      "dann" (domain adaptation on the target's unlabelled inputs: a quarter of train, shifted,
      or of the target file), "class_weights" or "balanced" (class imbalance). The run trains
      the model at weight 0 and at each of ``remedy_weights`` (``REMEDY_WEIGHTS`` when empty),
      ``max(train.seeds, 3)`` seeds each, as one population, and reports the errors and gaps
      with and without it.
    """

    name: str = "digits-mlp"
    seed: Seed = 0
    human_error: float = 0.005
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    diagnose: DiagnoseConfig = field(default_factory=DiagnoseConfig)
    remedy: str = ""
    remedy_weights: tuple[float, ...] = ()

    def __post_init__(self):
        require_key(0 <= self.human_error <= 1, "human_error", "a fraction in [0, 1]",
                    self.human_error)
        require_key(self.remedy in ("", *REMEDIES), "remedy", f"'' or one of {REMEDIES}",
                    self.remedy)
        require_key(all(w > 0 for w in self.remedy_weights), "remedy_weights",
                    "weights > 0 (weight 0, the model as it is, is always trained)",
                    list(self.remedy_weights))
        require_folder_name(self.name, "name")
        selectable = ("", "loss", "error", "accuracy")
        require_key(self.train.select in selectable, "train.select", f"one of {selectable}",
                    self.train.select)


def config_from_dict(values: dict[str, Any], cls: type = RunConfig, prefix: str = "") -> Any:
    """Builds ``cls`` from nested dicts, checking every key and type.

    Raises:
      ValueError: an unknown key, a wrong type or a value out of range, naming the dotted key.
    """
    if not isinstance(values, dict):
        raise ValueError(f"config key {prefix.rstrip('.')!r}: expected a table, found {values!r}.")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(
            f"config key {prefix + unknown[0]!r}: unknown key; expected one of {sorted(fields)}."
        )
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, value in values.items():
        default = _default(fields[name])
        if dataclasses.is_dataclass(default) and isinstance(value, dict):
            # a table given in part keeps this root's defaults for the rest (a sweep's
            # [train] without steps trains 300 steps, not RunConfig's 3000)
            value = {**config_to_dict(default), **value}
        kwargs[name] = _typed(prefix + name, value, hints[name])
    return cls(**kwargs)


def _default(f: dataclasses.Field) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None if f.default is dataclasses.MISSING else f.default


def _typed(key: str, value: Any, hint: Any) -> Any:
    if dataclasses.is_dataclass(hint):
        return config_from_dict(value, hint, key + ".")
    if typing.get_origin(hint) is tuple:
        item = typing.get_args(hint)[0]
        require_key(isinstance(value, list | tuple), key, f"a list of {item.__name__}", value)
        return tuple(_typed(f"{key}[{i}]", v, item) for i, v in enumerate(value))
    if hint is bool:
        require_key(isinstance(value, bool), key, "true or false", value)
        return value
    if hint is float:
        require_key(isinstance(value, int | float) and not isinstance(value, bool), key,
                    "a number", value)
        require_key(math.isfinite(value) and abs(value) <= FLOAT32_MAX, key,
                    "a finite number that fits in float32", value)
        return float(value)
    if hint in (int, Seed):
        require_key(isinstance(value, int) and not isinstance(value, bool), key, "an integer",
                    value)
        low, high = (0, SEED_LIMIT) if hint is Seed else (-2**63, 2**63)
        require_key(low <= value < high, key, "an integer seed in [0, 2**31)" if hint is Seed
                    else "an integer that fits in 64 bits", value)
        return value
    if hint is str:
        require_key(isinstance(value, str), key, "a string", value)
        return value
    raise TypeError(f"config key {key!r}: unsupported field type {hint}")  # a bug in this module


def load_config(
    path: str | Path | None = None, overrides: typing.Sequence[str] = (), cls: type = RunConfig
) -> Any:
    """The ``cls`` config in TOML file ``path`` (defaults when None), then ``KEY=VALUE``
    overrides.

    Override values are TOML literals (``train.steps=100``, ``model.hidden=[64, 64]``); a value
    that is not a TOML literal is taken as a string (``data.source=my.csv``).
    """
    values = read_config_file(path) if path is not None else {}
    return config_from_dict(apply_overrides(values, overrides), cls)


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The nested dict of TOML file ``path``.

    Raises:
      ValueError: no such file, or not valid TOML.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"config file {str(path)!r}: no such file.")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise ValueError(f"config file {str(path)!r}: expected UTF-8 TOML text, found bytes "
                         f"that are not text ({e.reason} at byte {e.start}).") from None
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"config file {str(path)!r}: not valid TOML ({e}).") from None


def apply_overrides(values: dict[str, Any], overrides: typing.Sequence[str]) -> dict[str, Any]:
    """``values`` (nested dicts, changed in place and returned) with ``KEY=VALUE`` overrides.

    Values are TOML literals (``train.steps=100``, ``model.hidden=[64, 64]``,
    ``space.lr={type="uniform", low=0, high=1}``); anything else is taken as a string.
    """
    for override in overrides:
        key, sep, raw = override.partition("=")
        require_key(bool(sep) and bool(key.strip()), "--set", "KEY=VALUE", override)
        *tables, leaf = key.strip().split(".")
        node = values
        for table in tables:
            node = node.setdefault(table, {})
            require_key(isinstance(node, dict), key, "a key inside a table", override)
        node[leaf] = _parse_literal(raw.strip())
    return values


def _parse_literal(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def config_to_dict(config: Any) -> dict[str, Any]:
    """Nested plain dict of a config (tuples become lists), for JSON and comparisons."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def config_to_toml(config: Any) -> str:
    """TOML text that ``load_config`` reads back into an equal config."""
    return dict_to_toml(config_to_dict(config))


def dict_to_toml(values: dict[str, Any]) -> str:
    """TOML text of a nested dict of strings, numbers, booleans, lists and tables."""
    return "\n".join(_toml_lines(values, "")).lstrip("\n") + "\n"


def _toml_lines(values: dict[str, Any], table: str) -> list[str]:
    """Scalars of ``values`` first, then each sub-table under its dotted header."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in values.items() if not isinstance(v, dict)]
    for key, value in values.items():
        if isinstance(value, dict):
            header = f"{table}.{key}" if table else key
            lines += [f"\n[{header}]", *_toml_lines(value, header)]
    return lines


def _toml_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):  # a table inside a list: an inline table
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)  # strings, booleans, ints and floats: alike in JSON and TOML


def first_difference(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> str | None:
    """The dotted key of the first value that differs between two config dicts, or None."""
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key), b.get(key)
        if isinstance(va, dict) and isinstance(vb, dict):
            found = first_difference(va, vb, prefix + key + ".")
            if found:
                return found
        elif va != vb:
            return f"{prefix}{key} ({va!r} vs {vb!r})"
    return None
