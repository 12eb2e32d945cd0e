"""The config of ``jaxdiag train``: a shared trunk, named task heads, transfer, and studies.

Loaded like the run config (``load_config(path, overrides, cls=MultiTaskConfig)``): TOML,
then ``--set KEY=VALUE``; every key and type is checked and errors name the dotted key.
"""

from dataclasses import dataclass, field

from jaxdiag.experiment.config import (
    ModelConfig,
    OptimizerConfig,
    Seed,
    TrainConfig,
    require_folder_name,
    require_key,
)

TASK_KINDS = ("multiclass", "binary")
TRANSFER_MODES = ("none", "head_only", "last_n", "full")
TASK_METRICS = ("loss", "accuracy", "f1", "roc_auc")


@dataclass(frozen=True)
class TaskConfig:
    """One head and its labels.

    name: the head's name (a key of the labels and of the metrics).
    kind: "multiclass" (softmax over the kept classes, relabelled 0..k-1) or "binary"
      (sigmoid; label 1 when the example's class is in ``positive``).
    positive: the classes that are positive for a binary task.
    weight: the task's weight in the training loss (sum of weight x task loss).
    class_weights: "" (every example weighs 1) or "inverse": a multiclass task's training loss
      weighs each class by n / (C n_c) of its training labels, against a class imbalance.
    """

    name: str = "label"
    kind: str = "multiclass"
    positive: tuple[int, ...] = ()
    weight: float = 1.0
    class_weights: str = ""

    def __post_init__(self):
        require_key(self.name.isidentifier(), "tasks.name", "an identifier (letters, digits, _)",
                    self.name)
        require_key(self.kind in TASK_KINDS, f"tasks.{self.name}.kind", f"one of {TASK_KINDS}",
                    self.kind)
        require_key(self.kind == "multiclass" or bool(self.positive),
                    f"tasks.{self.name}.positive", "at least one positive class for a binary "
                    "task", self.positive)
        require_key(self.weight >= 0, f"tasks.{self.name}.weight", "a value >= 0", self.weight)
        require_key(self.class_weights in ("", "inverse") and (
            not self.class_weights or self.kind == "multiclass"),
            f"tasks.{self.name}.class_weights", "'' or, for a multiclass task, 'inverse'",
            self.class_weights)


@dataclass(frozen=True)
class TaskDataConfig:
    """The examples and their splits.

    source: "digits" (built in) or a path to a .npz / .csv file of (x, class) examples.
    classes: keep only these classes (empty: all).
    dev_fraction, test_fraction: shares of the kept examples held out as dev and test
      (drawn with ``split_seed``, the same for every run seed).
    labels_per_class: keep only this many training examples of each class, drawn with the
      run seed (0: every training example).
    missing_fraction: share of each task's training labels hidden (set to -1, "not
      labelled"), drawn independently per task with the run seed. Dev and test keep theirs.
    translate: move every training image by a random offset of up to this many pixels
      along each axis, anew at every step (augmentation; images only, 0: off).
    balance_task: "" or a multiclass task whose classes every minibatch draws uniformly
      (class-balanced sampling, against a class imbalance; examples without that task's label
      are not drawn).
    """

    source: str = "digits"
    label_column: str = "label"
    classes: tuple[int, ...] = ()
    dev_fraction: float = 0.2
    test_fraction: float = 0.3
    labels_per_class: int = 0
    missing_fraction: float = 0.0
    translate: int = 0
    split_seed: Seed = 0
    balance_task: str = ""

    def __post_init__(self):
        for name in ("dev_fraction", "test_fraction"):
            value = getattr(self, name)
            require_key(0 < value < 1, f"data.{name}", "a value in (0, 1)", value)
        require_key(self.dev_fraction + self.test_fraction < 1, "data.test_fraction",
                    f"less than 1 - data.dev_fraction = {1 - self.dev_fraction:.3g}",
                    self.test_fraction)
        require_key(self.labels_per_class >= 0, "data.labels_per_class", "an integer >= 0",
                    self.labels_per_class)
        require_key(0 <= self.missing_fraction < 1, "data.missing_fraction",
                    "a value in [0, 1)", self.missing_fraction)
        require_key(self.translate >= 0, "data.translate", "an integer >= 0", self.translate)


@dataclass(frozen=True)
class TransferConfig:
    """Starting from the trunk of another run.

    source: a TOML config of the pretraining run (trained first if its run folder is not
      finished; relative paths are taken from this config's folder) or a run folder. Its
      best checkpoint's trunk is loaded; the heads start fresh.
    mode: "none" (from scratch, source ignored), "head_only" (trunk frozen), "last_n" (the
      last ``last_n`` trunk layers train) or "full" (every layer trains).
    trunk_lr_scale: the trunk layers that train do so at this times the learning rate.
    probe_steps: for "last_n" and "full", the first probe_steps steps train only the heads
      (the trunk as in "head_only"); the trunk layers train from then on.
    """

    source: str = ""
    mode: str = "none"
    last_n: int = 1
    trunk_lr_scale: float = 0.1
    probe_steps: int = 0

    def __post_init__(self):
        require_key(self.mode in TRANSFER_MODES, "transfer.mode", f"one of {TRANSFER_MODES}",
                    self.mode)
        require_key(self.mode == "none" or bool(self.source), "transfer.source",
                    f"a config or run folder for transfer.mode = {self.mode!r}", self.source)
        require_key(self.last_n >= 1, "transfer.last_n", "an integer >= 1", self.last_n)
        require_key(0 < self.trunk_lr_scale <= 1, "transfer.trunk_lr_scale",
                    "a value in (0, 1]", self.trunk_lr_scale)
        require_key(self.probe_steps >= 0, "transfer.probe_steps", "an integer >= 0",
                    self.probe_steps)


@dataclass(frozen=True)
class ArmConfig:
    """One arm of a study: a name and the ``KEY=VALUE`` overrides that make it."""

    name: str = "arm"
    set: tuple[str, ...] = ()

    def __post_init__(self):
        require_folder_name(self.name, "study.arms.name")


@dataclass(frozen=True)
class StudyConfig:
    """Runs every arm with every seed and tabulates a test metric: mean and spread.

    metric: the test metric of each task in the table (one of loss, accuracy, f1, roc_auc).
    """

    seeds: tuple[Seed, ...] = ()
    arms: tuple[ArmConfig, ...] = ()
    metric: str = "accuracy"

    def __post_init__(self):
        require_key(bool(self.seeds) == bool(self.arms), "study.arms",
                    "arms and seeds given together", self.arms)
        require_key(self.metric in TASK_METRICS, "study.metric", f"one of {TASK_METRICS}",
                    self.metric)
        names = [arm.name for arm in self.arms]
        require_key(len(set(names)) == len(names), "study.arms", "distinct arm names", names)


ADAPTATION_METHODS = ("", "coral", "dann")
DOMAIN_HEAD = "domain_classifier"  # the heads' entry of "dann"'s domain classifier


@dataclass(frozen=True)
class AdaptationConfig:
    """Domain adaptation of the shared trunk to a target domain, on its unlabelled inputs.

    method: "" (none), "coral" (Deep CORAL between the trunk's features of a source and a
      target batch) or "dann" (a domain classifier behind a gradient-reversal layer on them).
    weight: the adaptation loss's weight in the training loss (added to every task's).
    target: a .npz / .csv file of the target domain's inputs (its labels are not read; the
      splits stay as they are), or "" for the built-in synthetic shift of images: dev and test
      are shifted, and ``unlabelled_fraction`` of train is held out, shifted, as the
      unlabelled target inputs.
    """

    method: str = ""
    weight: float = 1.0
    target: str = ""
    unlabelled_fraction: float = 0.25

    def __post_init__(self):
        require_key(self.method in ADAPTATION_METHODS, "adaptation.method",
                    f"one of {ADAPTATION_METHODS}", self.method)
        require_key(self.weight >= 0, "adaptation.weight", "a value >= 0", self.weight)
        require_key(0 < self.unlabelled_fraction < 1, "adaptation.unlabelled_fraction",
                    "a share in (0, 1)", self.unlabelled_fraction)


@dataclass(frozen=True)
class MultiTaskConfig:
    """A ``jaxdiag train`` run: data, model (the shared trunk), tasks, optimizer, loop, transfer,
    study."""

    name: str = "digits-multitask"
    seed: Seed = 0
    data: TaskDataConfig = field(default_factory=TaskDataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    tasks: tuple[TaskConfig, ...] = (TaskConfig(),)
    optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(
        learning_rate=1e-3))
    train: TrainConfig = field(default_factory=lambda: TrainConfig(
        steps=2000, checkpoint_every=100))
    transfer: TransferConfig = field(default_factory=TransferConfig)
    adaptation: AdaptationConfig = field(default_factory=AdaptationConfig)
    study: StudyConfig = field(default_factory=StudyConfig)

    def __post_init__(self):
        require_folder_name(self.name, "name")
        require_key(not self.model.is_entry_point, "model.name",
                    "'mlp' or 'cnn' (the trunk that the heads share)", self.model.name)
        require_key(bool(self.model.hidden), "model.hidden",
                    "at least one width (the heads read the trunk's last layer)",
                    self.model.hidden)
        require_key(bool(self.tasks), "tasks", "at least one task", self.tasks)
        names = [task.name for task in self.tasks]
        require_key(len(set(names)) == len(names), "tasks", "distinct task names", names)
        require_key(DOMAIN_HEAD not in names, "tasks", f"names other than {DOMAIN_HEAD!r} (the "
                    "domain classifier's)", names)
        multiclass = [task.name for task in self.tasks if task.kind == "multiclass"]
        require_key(self.data.balance_task in ("", *multiclass), "data.balance_task",
                    f"'' or a multiclass task from {multiclass}", self.data.balance_task)
        task, _, metric = self.train.select.rpartition(".")
        require_key(bool(self.train.select), "train.select", "a dev metric (the best "
                    "checkpoint is the run's result, and what transfer starts from)", "")
        require_key(task in ("", *names), "train.select", f"a task from {names}",
                    self.train.select)
        require_key(metric in (TASK_METRICS if task else ("loss", "accuracy")), "train.select",
                    f"'loss' or 'accuracy', or '<task>.<metric>' with a metric from "
                    f"{TASK_METRICS}", self.train.select)
