"""The optimizers of jaxdiag, one factory for single runs and populations alike."""

import optax

from jaxdiag.experiment.config import OPTIMIZERS, OptimizerConfig

Scalar = optax.ScalarOrSchedule  # a Python float, a traced scalar or a schedule


def optimizer(name: str, learning_rate: Scalar, momentum: Scalar,
              weight_decay: Scalar) -> optax.GradientTransformation:
    """The optimizer ``name`` with its hyperparameters injected (``optax.inject_hyperparams``:
    they live in the optimizer state, so they may be traced scalars, one per population member).

    "sgd": SGD with ``momentum`` and coupled weight decay (``weight_decay * params`` added to
    the gradient); "adam": Adam with b1 = ``momentum`` and the same coupled weight decay (L2);
    "adamw": AdamW, b1 = ``momentum``, decoupled weight decay (Loshchilov & Hutter).

    Raises:
      ValueError: ``name`` is not one of ``OPTIMIZERS``.
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer: expected one of {OPTIMIZERS}, found {name!r}.")
    return optax.inject_hyperparams(_FACTORIES[name])(
        learning_rate=learning_rate, momentum=momentum, weight_decay=weight_decay)


def make_optimizer(config: OptimizerConfig) -> optax.GradientTransformation:
    """The optimizer of an ``[optimizer]`` config section."""
    return optimizer(config.name, config.learning_rate, config.momentum, config.weight_decay)


def _sgd(learning_rate, momentum, weight_decay):
    return optax.chain(optax.add_decayed_weights(weight_decay), optax.sgd(learning_rate, momentum))


def _adam(learning_rate, momentum, weight_decay):
    return optax.chain(optax.add_decayed_weights(weight_decay),
                       optax.adam(learning_rate, b1=momentum))


def _adamw(learning_rate, momentum, weight_decay):
    return optax.adamw(learning_rate, b1=momentum, weight_decay=weight_decay)


_FACTORIES = {"sgd": _sgd, "adam": _adam, "adamw": _adamw}
