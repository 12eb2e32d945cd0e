"""The optax optimizer a config names."""

import optax

from jaxdiag.experiment.config import OptimizerConfig


def make_optimizer(config: OptimizerConfig) -> optax.GradientTransformation:
    """Adam, AdamW or SGD with momentum, at a constant learning rate."""
    if config.name == "adam":
        return optax.adam(config.learning_rate)
    if config.name == "adamw":
        return optax.adamw(config.learning_rate, weight_decay=config.weight_decay)
    return optax.chain(
        optax.add_decayed_weights(config.weight_decay),
        optax.sgd(config.learning_rate, momentum=config.momentum or None),
    )
