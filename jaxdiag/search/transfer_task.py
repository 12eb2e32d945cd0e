"""A member that starts from a pretrained trunk: fine-tuning, head-only and LP-FT in one task.

``TransferTask`` wraps the task of the model (``ModelTask``): each member initializes its own
head from its key (``head``, a top-level entry of the model's parameters) and takes every other
parameter from ``source`` (the pretrained model's). The trunk is frozen for the first
``freeze_steps`` steps: 0 fine-tunes everything from the start, the whole budget trains the head
only (a linear probe of the trunk's features when the head is one layer), and anything between
is linear probing then fine-tuning (Kumar et al., ICLR 2022; here one optimizer throughout,
whose trunk moments gather during the probe, where Kumar et al. restart it). Scratch training is
the plain ``ModelTask``, so every protocol of a transfer curve is one population of its sizes x
seeds.
"""

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import optax

from jaxdiag.checks import require
from jaxdiag.search.model_task import ModelTask
from jaxdiag.search.task import HParams, State


@dataclass(frozen=True, eq=False)
class TransferTask:
    """``base``'s model with its trunk from ``source``.

    Attributes:
      base: the model's task (a factory, so that each member's head is its own).
      source: the pretrained parameters, the structure of ``base.template.params`` (the head's
        entry may differ in shape: it is not read).
      head: the top-level parameter entry each member initializes afresh and always trains.
      freeze_steps: steps during which the trunk gets no update (>= 0).
    """

    base: ModelTask
    source: Any
    head: str
    freeze_steps: int = 0

    def __post_init__(self):
        entries = sorted(self.base.template.params)
        require(self.head in entries, "head", f"one of the parameter entries {entries}",
                self.head)
        require(self.freeze_steps >= 0, "freeze_steps", "an integer >= 0", self.freeze_steps)
        trunk = {k: v for k, v in self.base.template.params.items() if k != self.head}
        given = {k: v for k, v in self.source.items() if k != self.head}
        shapes = jax.tree.map(jnp.shape, trunk), jax.tree.map(jnp.shape, given)
        require(shapes[0] == shapes[1], "source", f"the trunk of {self.base.name} {shapes[0]}",
                shapes[1])

    @property
    def name(self) -> str:
        return self.base.name

    @property
    def traced_hparams(self) -> tuple[str, ...]:
        return self.base.traced_hparams

    def init(self, key: jax.Array, hp: HParams) -> tuple[Any, State]:
        params, state = self.base.init(key, hp)
        return {k: v if k == self.head else self.source[k] for k, v in params.items()}, state

    def loss(self, params: Any, state: State, x: jax.Array, y: jax.Array,
             key: jax.Array | None, hp: HParams) -> tuple[jax.Array, State]:
        return self.base.loss(params, state, x, y, key, hp)

    def logits(self, params: Any, state: State, x: jax.Array) -> jax.Array:
        return self.base.logits(params, state, x)

    def tx(self, hp: HParams) -> optax.GradientTransformation:
        inner = self.base.tx(hp)
        if not self.freeze_steps:
            return inner
        thawed = optax.chain(inner, optax.scale_by_schedule(
            lambda count: (count >= self.freeze_steps).astype(jnp.float32)))
        labels = {k: "head" if k == self.head else "trunk" for k in self.base.template.params}
        return optax.multi_transform({"head": inner, "trunk": thawed},
                                     lambda params: {k: jax.tree.map(lambda _, v=v: v, params[k])
                                                     for k, v in labels.items()})

    def step_flops(self, batch_size: int) -> float:
        return self.base.step_flops(batch_size)

    def uses_key(self, dropout: Any) -> bool:
        return self.base.uses_key(dropout)
