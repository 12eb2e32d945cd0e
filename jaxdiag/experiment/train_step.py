"""The jitted training program: a ``lax.scan`` of SGD steps over minibatches drawn on device."""

from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxdiag.kernels import class_balanced_indices, class_layout
from jaxdiag.models import Model, Params, State
from jaxdiag.monitor import activation_stats, leaf_gradient_stats


class TrainState(NamedTuple):
    """Everything that changes during training: a pytree, checkpointed as it is.

    ``model_state`` is what the model carries besides its parameters (BatchNorm statistics,
    dropout RNG counts; ``{}`` for none), updated by each training step.
    """

    params: Params
    opt_state: optax.OptState
    step: jax.Array  # int32 scalar: steps taken so far
    model_state: State = {}  # noqa: RUF012 (a NamedTuple default, never mutated)


LossFn = Callable[[Params, State, jax.Array, Any, jax.Array], tuple[jax.Array, State]]


def init_train_state(params: Params, tx: optax.GradientTransformation,
                     model_state: State | None = None) -> TrainState:
    return TrainState(params, tx.init(params), jnp.zeros((), jnp.int32),
                      {} if model_state is None else model_state)


def _mean_cross_entropy(logits: jax.Array, y: jax.Array) -> jax.Array:
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


def cross_entropy_loss(model: Model) -> LossFn:
    """``loss(params, state, x, y, key) -> (mean softmax cross-entropy, new state)`` of integer
    labels y (shape (b,)), in training mode (dropout from ``key``, BatchNorm on the batch)."""

    def loss(params: Params, state: State, x: jax.Array, y: jax.Array, key: jax.Array):
        logits, new_state = model.apply(params, state, x, key, True)
        return _mean_cross_entropy(logits, y), new_state

    return loss


def _apply_gradients(state: TrainState, grads: Params, model_state: State,
                     tx: optax.GradientTransformation):
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    return TrainState(params, opt_state, state.step + 1, model_state), updates


def make_train_step(
    loss_fn: LossFn,
    tx: optax.GradientTransformation,
    key: jax.Array,
) -> Callable[[TrainState, jax.Array, Any], tuple[TrainState, jax.Array]]:
    """One optimizer step on one minibatch: ``(state, x, y) -> (state, loss)``; the step's
    dropout key is ``fold_in(key, state.step)``, so a resumed run draws the same masks."""

    def train_step(state: TrainState, x: jax.Array, y: Any) -> tuple[TrainState, jax.Array]:
        (loss, model_state), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            state.params, state.model_state, x, y, jax.random.fold_in(key, state.step))
        return _apply_gradients(state, grads, model_state, tx)[0], loss

    return train_step


def make_monitored_train_step(
    model: Model,
    kinds: dict[str, str],
    tx: optax.GradientTransformation,
    key: jax.Array,
    bins: int = 30,
) -> Callable[[TrainState, jax.Array, jax.Array], tuple[TrainState, jax.Array, dict]]:
    """The cross-entropy step of ``make_train_step``, also returning monitor statistics.

    Args:
      model: the model (``jaxdiag.models.as_model``); its ``capture`` gives the layers.
      kinds: {layer: activation function}, from ``jaxdiag.monitor.activation_kinds``.
      tx: the optimizer.
      key: the dropout key, as for ``make_train_step``.
      bins: histogram bins per layer.

    Returns:
      ``(state, x, y) -> (state, loss, stats)``; ``stats`` is {"activations": {layer:
      ActivationStats}, "gradients": {Param leaf path: GradientStats}}, all arrays.
    """

    def loss_with_layers(params, model_state, x, y, step_key):
        logits, new_state, layers = model.capture(params, model_state, x, step_key, True)
        stats = {name: activation_stats(out, kinds.get(name, "none"), bins)
                 for name, out in layers.items()}
        return _mean_cross_entropy(logits, y), (new_state, stats)

    def train_step(state: TrainState, x: jax.Array, y: jax.Array):
        (loss, (model_state, activations)), grads = jax.value_and_grad(
            loss_with_layers, has_aux=True)(state.params, state.model_state, x, y,
                                            jax.random.fold_in(key, state.step))
        new_state, updates = _apply_gradients(state, grads, model_state, tx)
        return new_state, loss, {"activations": activations,
                                 "gradients": leaf_gradient_stats(grads, state.params, updates)}

    return train_step


# Class-balanced draws of ``make_train_steps``: (labels of y -> int (n,) classes, -1 for
# examples never drawn; the number of classes).
Balance = tuple[Callable[[Any], jax.Array], int]
BALANCE_STREAM = 0x6A09E667  # fold_in constant of the balanced draws' seed


def make_train_steps(
    train_step: Callable[[TrainState, jax.Array, jax.Array], tuple[TrainState, jax.Array]],
    batch_size: int,
    key: jax.Array,
    monitored_step: Callable[..., tuple[TrainState, jax.Array, dict]] | None = None,
    balance: Balance | None = None,
    batch_sharding: jax.sharding.Sharding | None = None,
) -> Callable[..., tuple]:
    """Many steps in one compiled call: ``(state, x, y, num_steps) -> (state, losses[, stats])``.

    Minibatches are epochs of a permutation drawn from ``fold_in(key, epoch)`` (the last
    ``n % batch_size`` examples of each shuffled epoch are dropped), so the batch of a step
    depends only on the key and the step number: a run resumed from a checkpoint at any
    step sees exactly the batches of an uninterrupted run.

    With ``balance`` = (labels, C), every batch is drawn class-balanced instead: each example a
    class uniformly among those ``labels(y)`` holds, then one of its examples (with
    replacement; label -1 is never drawn), from a seed of ``key`` and the step alone
    (``jaxdiag.kernels.class_balanced_indices``), so a resumed run draws the same batches.

    With ``batch_sharding`` (``jaxdiag.experiment.data_parallel``), each minibatch is laid out
    that way (its batch axis split over devices: data parallelism) before the step takes it.

    Args of the returned function:
      state: TrainState at step s.
      x: float array, shape (n, ...), the whole training set (on device).
      y: int array, shape (n,), or a pytree of arrays of leading size n (e.g. {task: labels}).
      num_steps: static count of steps to take.

    Returns:
      (TrainState at step s + num_steps, float32 array of shape (num_steps,) with each loss),
      and with ``monitored_step`` the statistics of the last step, which it takes.
    """

    @partial(jax.jit, static_argnames="num_steps")
    def train_steps(state: TrainState, x: jax.Array, y: jax.Array, num_steps: int):
        n = x.shape[0]
        steps_per_epoch = n // batch_size

        def permutation(step: jax.Array) -> jax.Array:
            return jax.random.permutation(jax.random.fold_in(key, step // steps_per_epoch), n)

        if balance is not None:
            by_class, starts, counts = class_layout(balance[0](y), balance[1])
            seed = jax.random.bits(jax.random.fold_in(key, BALANCE_STREAM), dtype=jnp.uint32)

        def next_batch(state: TrainState, order: jax.Array):
            if balance is not None:
                draws = class_balanced_indices(seed, state.step[None], batch_size, starts,
                                               counts)[0]
                return order, by_class[draws]
            position = state.step % steps_per_epoch
            order = jax.lax.cond(position == 0, permutation, lambda _: order, state.step)
            return order, jax.lax.dynamic_slice_in_dim(order, position * batch_size, batch_size)

        def rows(batch: jax.Array) -> tuple[jax.Array, Any]:
            xb, yb = x[batch], _take(y, batch)
            if batch_sharding is None:
                return xb, yb
            return jax.lax.with_sharding_constraint((xb, yb), batch_sharding)

        def body(carry: tuple[TrainState, jax.Array], _: Any):
            state, order = carry
            order, batch = next_batch(state, order)
            state, loss = train_step(state, *rows(batch))
            return (state, order), loss

        plain = num_steps if monitored_step is None else num_steps - 1
        (state, order), losses = jax.lax.scan(body, (state, permutation(state.step)),
                                              length=plain)
        if monitored_step is None:
            return state, losses
        _, batch = next_batch(state, order)
        state, loss, stats = monitored_step(state, *rows(batch))
        return state, jnp.append(losses, loss), stats

    return train_steps


def _take(y: Any, batch: jax.Array) -> Any:
    """The rows ``batch`` of every array in pytree ``y``."""
    return jax.tree.map(lambda a: a[batch], y)
