"""The multi-task training step: weighted masked task losses, frozen leaves left untouched."""

from collections.abc import Callable, Mapping

import jax
import optax

from jaxdiag.experiment.masked_loss import multitask_loss
from jaxdiag.experiment.train_step import TrainState
from jaxdiag.experiment.transfer import apply_unfrozen
from jaxdiag.models import Params

Labels = Mapping[str, jax.Array]


def make_multitask_step(
    apply: Callable[[Params, jax.Array], dict[str, jax.Array]],
    kinds: Mapping[str, str],
    weights: Mapping[str, float],
    tx: optax.GradientTransformation,
    frozen: Params | None = None,
    class_weights: Mapping[str, jax.Array] | None = None,
    adaptation: Callable[[Params, jax.Array, jax.Array], jax.Array] | None = None,
) -> Callable[[TrainState, jax.Array, Labels], tuple[TrainState, jax.Array]]:
    """One optimizer step: ``(state, x, labels) -> (state, weighted loss)``.

    Args:
      apply: ``(params, x) -> {task: logits}`` (``MultiHeadModel.apply``).
      kinds, weights: {task: "multiclass" | "binary"}, {task: loss weight}.
      tx: the optimizer (e.g. ``transfer_optimizer``'s multi_transform).
      frozen: bool pytree of the params' structure (``frozen_leaves``); frozen leaves are
        never changed. None: every leaf trains.
      class_weights: {task: (C,) per-class loss weights} of the multiclass tasks that
        re-balance their classes (``masked_task_loss``); None: none.
      adaptation: ``(params, x, step) -> loss`` added to the tasks' (``adaptation_loss``:
        domain adaptation of the trunk); None: none.

    ``labels`` is {task: int array}, shapes as ``masked_task_loss`` takes them, -1 missing.
    """

    def loss_fn(params: Params, x: jax.Array, labels: Labels, step: jax.Array) -> jax.Array:
        loss = multitask_loss(apply(params, x), labels, kinds, weights, class_weights)[0]
        return loss if adaptation is None else loss + adaptation(params, x, step)

    def step(state: TrainState, x: jax.Array, labels: Labels) -> tuple[TrainState, jax.Array]:
        loss, grads = jax.value_and_grad(loss_fn)(state.params, x, labels, state.step)
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        if frozen is None:
            params = optax.apply_updates(state.params, updates)
        else:
            params = apply_unfrozen(state.params, updates, frozen)
        return TrainState(params, opt_state, state.step + 1), loss

    return step
