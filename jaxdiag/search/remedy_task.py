"""A member that trains with a remedy: domain adaptation, data synthesis or class weights.

``RemedyTask`` wraps the task of the user's model (``ModelTask``) and adds the remedy's term to
its loss, weighted by the member's traced ``remedy_weight``, so one population trains the model
without the remedy (weight 0) and with it at several weights, in one compiled program:

- "coral": Deep CORAL on a layer's features of a source and a target batch.
- "dann": a domain classifier behind a gradient-reversal layer on those features.
- "synthesis": a share ``remedy_weight`` (clipped to 1) of each batch seen through a random
  camera around the built-in shift (``jaxdiag.data.synthesis.random_shift``).
- "class_weights": softmax cross-entropy weighted per class by ``class_weights ** remedy_weight``
  (0: plain; 1: the given weights, e.g. inverse class frequencies).
- "balanced": a share ``remedy_weight`` (clipped to 1) of each batch drawn class-balanced (a
  class uniformly, then one of its examples: ``jaxdiag.kernels.class_balanced_indices``).

Source and target batches go through the model in one call, so BatchNorm normalizes them
together (as Ganin et al. do).
"""

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdiag.checks import require
from jaxdiag.data.shift import DomainShift
from jaxdiag.data.synthesis import SHIFT_PARAMETERS, random_shift
from jaxdiag.experiment.config import ADAPTATIONS, REMEDIES
from jaxdiag.experiment.domain_adaptation import (
    coral_loss,
    domain_confusion_loss,
    init_domain_head,
)
from jaxdiag.search.model_task import ModelTask
from jaxdiag.search.task import HParams, State


@dataclass(frozen=True, eq=False)
class RemedyTask:
    """``base``'s model trained with ``remedy``.

    Attributes:
      base: the model's task.
      remedy: one of ``REMEDIES``.
      input_shape: one example's shape (the features' width of "coral" and "dann").
      layer: the features' layer for "coral" and "dann", a name of ``base.template.capture``'s
        layers; "" for the one before the output (the last hidden layer of an MLP).
      shift: the target's shift that "synthesis" imitates.
      held_out: shift parameters "synthesis" leaves out (``SHIFT_PARAMETERS``).
      class_weights: per-class weights of "class_weights", all > 0.
      num_classes: the classes "balanced" draws from.
    """

    base: ModelTask
    remedy: str
    input_shape: tuple[int, ...]
    layer: str = ""
    shift: DomainShift = field(default_factory=DomainShift)
    held_out: tuple[str, ...] = ()
    class_weights: tuple[float, ...] = ()
    num_classes: int = 0

    def __post_init__(self):
        require(self.remedy in REMEDIES, "remedy", f"one of {REMEDIES}", self.remedy)
        unknown = sorted(set(self.held_out) - set(SHIFT_PARAMETERS))
        require(not unknown, "held_out", f"names among {SHIFT_PARAMETERS}", unknown)
        if self.remedy == "class_weights":
            require(len(self.class_weights) > 0 and all(w > 0 for w in self.class_weights),
                    "class_weights", "a positive weight per class", self.class_weights)
        if self.remedy == "balanced":
            require(self.num_classes >= 2, "num_classes", "an integer >= 2 to balance",
                    self.num_classes)
        if self.remedy == "synthesis":
            require(len(self.input_shape) == 3, "input_shape",
                    "an image shape (h, w, c): synthesis imitates a camera", self.input_shape)
        if self.remedy in ADAPTATIONS:
            layers = self._layer_widths
            require(self.feature_layer in layers, "layer", f"one of {sorted(layers)}",
                    self.layer)

    @property
    def name(self) -> str:
        return self.base.name

    @property
    def needs_target(self) -> bool:
        return self.remedy in ADAPTATIONS

    @property
    def balanced_classes(self) -> int:
        """The classes the population draws class-balanced batches from; 0 for none."""
        return self.num_classes if self.remedy == "balanced" else 0

    @property
    def traced_hparams(self) -> tuple[str, ...]:
        return (*self.base.traced_hparams, "remedy_weight")

    @cached_property
    def _layer_widths(self) -> dict[str, int]:
        """{layer: features per example} of the model's captured layers, in call order."""
        template = self.base.template
        x = jax.ShapeDtypeStruct((2, *self.input_shape), jnp.float32)
        _, _, layers = jax.eval_shape(lambda v: template.capture(template.params,
                                                                 template.state, v, None, False),
                                      x)
        return {name: int(np.prod(v.shape[1:])) for name, v in layers.items()}

    @property
    def feature_layer(self) -> str:
        names = list(self._layer_widths)
        return self.layer or (names[-2] if len(names) >= 2 else "")

    def init(self, key: jax.Array, hp: HParams) -> tuple[Any, State]:
        params, state = self.base.init(key, hp)
        params = {"model": params}
        if self.remedy == "dann":
            params["domain_head"] = init_domain_head(jax.random.fold_in(key, 1),
                                                     self._layer_widths[self.feature_layer])
        return params, state

    def loss(self, params: Any, state: State, x: Any, y: jax.Array, key: jax.Array | None,
             hp: HParams) -> tuple[jax.Array, State]:
        template, weight = self.base.template, hp["remedy_weight"]
        if self.remedy in ADAPTATIONS:
            source, target = x
            b = source.shape[0]
            logits, state, layers = template.capture(
                params["model"], state, jnp.concatenate([source, target]), key, True)
            features = layers[self.feature_layer].reshape(len(logits), -1)
            extra = (coral_loss(features[:b], features[b:]) if self.remedy == "coral" else
                     domain_confusion_loss(params["domain_head"], features[:b], features[b:]))
            return self.base.loss_fn(logits[:b], y) + weight * extra, state
        if self.remedy == "synthesis":
            k_shift, k_pick = jax.random.split(jax.random.fold_in(key, 0x5EED))
            shifted = random_shift(k_shift, x, self.shift, self.held_out)
            pick = jax.random.uniform(k_pick, (x.shape[0],) + (1,) * (x.ndim - 1))
            x = jnp.where(pick < jnp.minimum(weight, 1.0), shifted, x)
            return self.base.loss(params["model"], state, x, y, key, hp)
        if self.remedy == "balanced":  # the population draws the batches
            return self.base.loss(params["model"], state, x, y, key, hp)
        logits, state = template.apply(params["model"], state, x, key, True)
        per_class = jnp.asarray(self.class_weights, jnp.float32) ** weight
        w = per_class[y]
        losses = optax.softmax_cross_entropy_with_integer_labels(logits, y)
        return jnp.sum(w * losses) / jnp.sum(w), state

    def logits(self, params: Any, state: State, x: jax.Array) -> jax.Array:
        return self.base.logits(params["model"], state, x)

    def tx(self, hp: HParams) -> optax.GradientTransformation:
        return self.base.tx(hp)

    def step_flops(self, batch_size: int) -> float:
        return self.base.step_flops(2 * batch_size if self.needs_target else batch_size)

    def uses_key(self, dropout: Any) -> bool:
        return self.remedy == "synthesis" or self.base.uses_key(dropout)


def inverse_frequency_weights(y: np.ndarray, num_classes: int) -> tuple[float, ...]:
    """Per-class weights n / (C n_c) of int labels y (n,) (classes absent from y get 1): each
    class then weighs as much in the loss as in a balanced set."""
    counts = np.bincount(np.asarray(y), minlength=num_classes)
    return tuple(float(len(y) / (num_classes * c)) if c else 1.0 for c in counts)
