"""Histograms of every layer's activations and every parameter's gradient on one batch.

The report draws them for the first and the last step of training, side by side: a layer whose
histogram collapses to a spike at zero has died, one piled at +-1 after a tanh has saturated,
and gradients that shrink by orders of magnitude from the last layer to the first vanish.
"""

from collections.abc import Callable
from typing import Any

import jax

from jaxdiag.models import Model, State
from jaxdiag.monitor.statistics import activation_stats, histogram

Histograms = dict[str, tuple[jax.Array, jax.Array]]


def layer_histograms(
    model: Model,
    loss: Callable[..., tuple[jax.Array, State]],
    kinds: dict[str, str],
    params: Any,
    state: State,
    x: jax.Array,
    y: jax.Array,
    key: jax.Array,
    bins: int = 30,
) -> dict[str, Histograms]:
    """Activation and gradient histograms at ``params`` on the batch ``(x, y)``.

    Args:
      model: the model (``jaxdiag.models.as_model``), run in training mode with ``key`` as
        its dropout key, so the layers are seen as training sees them.
      loss: ``loss(params, state, x, y, key) -> (scalar, new state)`` (as
        ``jaxdiag.experiment.cross_entropy_loss`` builds it) whose gradient is histogrammed.
      kinds: {layer: "relu" | "tanh" | "sigmoid" | "none"} (``activation_kinds``); each
        layer's histogram is of its activations after that function.
      params, state: the parameters and the model state; x, y: one batch.
      key: the dropout key.
      bins: static number of bins.

    Returns:
      {"activations": {layer: (counts, edges)}, "gradients": {leaf path: (counts, edges)}}:
      float32 counts of shape (bins,) and edges of shape (bins + 1,) spanning each
      histogram's minimum to maximum. Jit-compatible with ``bins`` static.
    """
    _, _, layers = model.capture(params, state, x, key, True)
    activations = {}
    for name, output in layers.items():
        stats = activation_stats(output, kinds.get(name, "none"), bins)
        activations[name] = (stats.histogram, stats.edges)
    grads = jax.grad(lambda p: loss(p, state, x, y, key)[0])(params)
    gradients = {jax.tree_util.keystr(path, simple=True, separator="/"): histogram(g, bins)
                 for path, g in jax.tree_util.tree_flatten_with_path(grads)[0]}
    return {"activations": activations, "gradients": gradients}
