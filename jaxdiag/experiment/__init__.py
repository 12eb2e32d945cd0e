"""Floor 3: config, training, evaluation, checkpoints and TensorBoard logs of one run."""

from jaxdiag.experiment.checkpoint import Checkpointer
from jaxdiag.experiment.config import (
    DataConfig,
    DiagnoseConfig,
    ModelConfig,
    OptimizerConfig,
    RunConfig,
    SearchConfig,
    TrainConfig,
    config_from_dict,
    config_to_dict,
    config_to_toml,
    first_difference,
    load_config,
)
from jaxdiag.experiment.data_setup import load_splits, target_kind
from jaxdiag.experiment.evaluate import (
    Evaluation,
    make_block_predictor,
    make_evaluator,
    make_predictor,
)
from jaxdiag.experiment.loop import FitResult, fit
from jaxdiag.experiment.optimizer import make_optimizer, optimizer
from jaxdiag.experiment.train_step import (
    LossFn,
    TrainState,
    cross_entropy_loss,
    init_train_state,
    make_monitored_train_step,
    make_train_step,
    make_train_steps,
)

__all__ = [
    "Checkpointer",
    "DataConfig",
    "DiagnoseConfig",
    "Evaluation",
    "FitResult",
    "LossFn",
    "ModelConfig",
    "OptimizerConfig",
    "RunConfig",
    "SearchConfig",
    "TrainConfig",
    "TrainState",
    "config_from_dict",
    "config_to_dict",
    "config_to_toml",
    "cross_entropy_loss",
    "first_difference",
    "fit",
    "init_train_state",
    "load_config",
    "load_splits",
    "make_block_predictor",
    "make_evaluator",
    "make_monitored_train_step",
    "make_optimizer",
    "make_predictor",
    "make_train_step",
    "make_train_steps",
    "optimizer",
    "target_kind",
]
