"""Floor 4: hyperparameter search on vmap populations.

Spaces and samplers (grid, random, scrambled Sobol, GP Bayesian optimization) propose batches
of points; the population trainer trains a batch as one compiled program; the trial store
and the sweep driver make a search resumable.
"""

from jaxdiag.kernels import minibatch_indices
from jaxdiag.search.halving import survivors
from jaxdiag.search.model_task import ModelTask, mlp_task, nnx_factory
from jaxdiag.search.population import Data, PopulationResult, member_errors, train_population
from jaxdiag.search.remedy_task import REMEDIES, RemedyTask, inverse_frequency_weights
from jaxdiag.search.samplers import (
    SAMPLERS,
    GPSampler,
    GridSampler,
    Observation,
    RandomSampler,
    Sampler,
    SobolSampler,
)
from jaxdiag.search.scheduling import concurrent_groups, members_per_chunk
from jaxdiag.search.sobol import sobol
from jaxdiag.search.space import (
    Categorical,
    Fixed,
    Integer,
    LogUniform,
    Space,
    Uniform,
    space_from_dict,
)
from jaxdiag.search.store import TrialStore
from jaxdiag.search.sweep import (
    SweepConfig,
    load_sweep_config,
    load_sweep_data,
    run_sweep,
    summarize,
)
from jaxdiag.search.task import MEMBER_HPARAMS, SHAPE_HPARAMS, Task
from jaxdiag.search.transfer_task import TransferTask

__all__ = [
    "MEMBER_HPARAMS",
    "REMEDIES",
    "SAMPLERS",
    "SHAPE_HPARAMS",
    "Categorical",
    "Data",
    "Fixed",
    "GPSampler",
    "GridSampler",
    "Integer",
    "LogUniform",
    "ModelTask",
    "Observation",
    "PopulationResult",
    "RandomSampler",
    "RemedyTask",
    "Sampler",
    "SobolSampler",
    "Space",
    "SweepConfig",
    "Task",
    "TransferTask",
    "TrialStore",
    "Uniform",
    "concurrent_groups",
    "inverse_frequency_weights",
    "load_sweep_config",
    "load_sweep_data",
    "member_errors",
    "members_per_chunk",
    "minibatch_indices",
    "mlp_task",
    "nnx_factory",
    "run_sweep",
    "sobol",
    "space_from_dict",
    "summarize",
    "survivors",
    "train_population",
]
