"""Transfer learning: a pretrained trunk under fresh heads, frozen or fine-tuned per layer."""

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdiag.experiment.heads import HEADS, TRUNK, MultiHeadModel
from jaxdiag.models import Params

HEAD, TRAINED_TRUNK, FROZEN = "head", "trunk", "frozen"


def load_trunk(params: Params, pretrained_trunk: Params, source: str) -> Params:
    """``params`` with its trunk replaced by ``pretrained_trunk`` (heads kept).

    Raises:
      ValueError: the pretrained trunk lacks a parameter, has one more, or one of another
        shape; the message names the parameter, ``source`` and both shapes.
    """
    ours = _by_path(params[TRUNK])
    theirs = _by_path(pretrained_trunk)
    for path in sorted(ours.keys() | theirs.keys()):
        if path not in theirs:
            raise ValueError(f"transfer.source {source!r}: trunk parameter {path!r} is missing "
                             f"there; expected shape {ours[path].shape} here.")
        if path not in ours:
            raise ValueError(f"transfer.source {source!r}: trunk parameter {path!r} of shape "
                             f"{np.shape(theirs[path])} there has no counterpart here.")
        if np.shape(theirs[path]) != ours[path].shape:
            raise ValueError(f"transfer.source {source!r}: trunk parameter {path!r} has shape "
                             f"{np.shape(theirs[path])} there, expected {ours[path].shape} here.")
    leaves = [jnp.asarray(theirs[path], leaf.dtype) for path, leaf in ours.items()]
    return {**params, TRUNK: jax.tree.unflatten(jax.tree.structure(params[TRUNK]), leaves)}


def _by_path(tree: Params) -> dict[str, jax.Array]:
    """{"layer.name": leaf} in the flattening order of ``tree``."""
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {".".join(str(getattr(k, "key", k)) for k in path): leaf for path, leaf in leaves}


def transfer_labels(model: MultiHeadModel, mode: str, last_n: int = 1) -> Params:
    """A pytree of ``model.params``' structure labelling each leaf "head", "trunk" (trains,
    at the trunk learning rate) or "frozen".

    mode: "none" and "full" train every trunk layer, "head_only" none, "last_n" the last
    ``last_n`` of ``model.trunk_layers``.
    """
    if mode == "head_only":
        trained: tuple[str, ...] = ()
    elif mode == "last_n":
        trained = model.trunk_layers[-last_n:]
    elif mode in ("none", "full"):
        trained = model.trunk_layers
    else:
        raise ValueError(f"mode: expected 'none', 'head_only', 'last_n' or 'full', found "
                         f"{mode!r}.")
    trunk = {layer: _fill(leaves, TRAINED_TRUNK if layer in trained else FROZEN)
             for layer, leaves in model.params[TRUNK].items()}
    return {TRUNK: trunk, HEADS: _fill(model.params[HEADS], HEAD)}


def _fill(tree: Params, label: str) -> Params:
    return jax.tree.map(lambda _: label, tree)


def transfer_optimizer(
    make_tx: Callable[[float], optax.GradientTransformation],
    learning_rate: float,
    labels: Params,
    trunk_lr_scale: float = 1.0,
    probe_steps: int = 0,
) -> optax.GradientTransformation:
    """``optax.multi_transform``: heads at ``learning_rate``, trained trunk leaves at
    ``trunk_lr_scale`` times it, frozen leaves get zero updates (and no optimizer state).

    ``make_tx(learning_rate)`` builds the base optimizer. For the first ``probe_steps``
    updates the trained trunk leaves get zero updates too, so only the heads learn (linear
    probing, then fine-tuning: the fresh heads' first, random gradients do not reach the
    pretrained trunk; Kumar et al. 2022).
    """
    trunk = make_tx(learning_rate * trunk_lr_scale)
    if probe_steps:
        trunk = optax.chain(trunk, optax.scale_by_schedule(
            lambda count: jnp.where(count < probe_steps, 0.0, 1.0)))
    transforms = {HEAD: make_tx(learning_rate), TRAINED_TRUNK: trunk,
                  FROZEN: optax.set_to_zero()}
    return optax.multi_transform(transforms, labels)


def frozen_leaves(labels: Params) -> Params:
    """Bool pytree: True where ``labels`` says "frozen" (for ``apply_unfrozen``)."""
    return jax.tree.map(lambda label: label == FROZEN, labels)


def apply_unfrozen(params: Params, updates: Params, frozen: Params) -> Params:
    """``params + updates`` leaf by leaf, except frozen leaves, which are returned as they are
    (bit for bit: no ``+ 0``, which would turn -0.0 into 0.0)."""
    return jax.tree.map(lambda p, u, f: p if f else p + u.astype(p.dtype), params, updates,
                        frozen)
