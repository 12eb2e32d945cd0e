"""The monitor inside the researcher's own training step: their loss, their optimizer.

    kinds = activation_kinds(as_model(model), x)           # once, by tracing

    def loss_fn(model, x, y):
        logits, layers = capture_layers(model, x)            # instead of model(x)
        return cross_entropy(logits, y), layers

    (loss, layers), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model, x, y)
    params = nnx.to_pure_dict(nnx.state(model, nnx.Param))   # values before the update
    updates = optimizer.update(model, grads)                 # nnx.Optimizer returns them
    stats = step_statistics(layers, kinds, grads, params, updates)
    alerts = monitor_alerts(stats["activations"], stats["gradients"], kinds)

No second forward pass: the layers come out of the loss the step differentiates anyway.
"""

from collections.abc import Mapping
from typing import Any

import jax
from flax import nnx

from jaxdiag.monitor.statistics import activation_stats, leaf_gradient_stats


def _pure(tree: Any) -> Any:
    return nnx.to_pure_dict(tree) if isinstance(tree, nnx.State) else tree


def step_statistics(
    layers: Mapping[str, jax.Array],
    kinds: Mapping[str, str],
    grads: Any,
    params: Any,
    updates: Any = None,
    bins: int = 30,
) -> dict:
    """The monitor's statistics of one step of the user's own loop (jit-compatible).

    Args:
      layers: {layer path: output}, e.g. from ``jaxdiag.models.capture_layers`` in the loss.
      kinds: {layer path: activation function}, from ``activation_kinds``.
      grads: the gradient of the loss: a pytree or an ``nnx.State`` of Params.
      params: the parameters' values before the update, the same structure (for NNX,
        ``nnx.to_pure_dict(nnx.state(model, nnx.Param))``: a State holds the Variables, which
        the optimizer then updates in place).
      updates: the optimizer's updates (``nnx.Optimizer.update`` and ``tx.update`` return
        them); None leaves the update ratios NaN (no update-ratio alert).
      bins: histogram bins per layer.

    Returns:
      {"activations": {layer: ActivationStats}, "gradients": {leaf path: GradientStats}}, as
      the built-in monitored step returns them; ``monitor_alerts`` reads them.
    """
    grads, params = _pure(grads), _pure(params)
    updates = (jax.tree.map(lambda g: g * float("nan"), grads) if updates is None
               else _pure(updates))
    return {"activations": {name: activation_stats(out, kinds.get(name, "none"), bins)
                            for name, out in layers.items()},
            "gradients": leaf_gradient_stats(grads, params, updates)}
