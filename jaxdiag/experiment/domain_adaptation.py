"""Domain adaptation losses on a layer's features: correlation alignment and domain confusion.

Both use the target domain's unlabelled training examples (FSDL's remedies for a data mismatch
besides collecting target data). Deep CORAL (Sun and Saenko, ECCV 2016 workshops) pulls the
covariance of the source features towards the target's; domain-adversarial training (Ganin et
al., JMLR 2016) trains a domain classifier on the features behind a gradient-reversal layer, so
the features learn to make the domains indistinguishable. Pure functions, jit- and
vmap-compatible; the weight of each loss is a traced scalar, so a population searches it.
"""

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax

DOMAIN_HIDDEN = 64  # units of the domain classifier's hidden layer


def covariance(features: jax.Array) -> jax.Array:
    """float (d, d): the unbiased covariance of ``features`` (n, d), n >= 2."""
    centred = features - features.mean(axis=0, keepdims=True)
    return centred.T @ centred / (features.shape[0] - 1)


def coral_loss(source: jax.Array, target: jax.Array) -> jax.Array:
    """Deep CORAL's loss ||C_S - C_T||_F^2 / (4 d^2) of source (n_s, d) and target (n_t, d)
    features (each n >= 2); a float scalar, 0 when the covariances match."""
    d = source.shape[-1]
    return jnp.sum((covariance(source) - covariance(target)) ** 2) / (4 * d * d)


@jax.custom_vjp
def reverse_gradient(x: jax.Array, scale: jax.Array) -> jax.Array:
    """The identity forward; backward, the gradient times ``-scale`` (Ganin et al.'s
    gradient-reversal layer); ``scale`` gets no gradient."""
    return x


def _reverse_forward(x, scale):
    return x, scale


def _reverse_backward(scale, g):
    return -scale * g, jnp.zeros_like(scale)


reverse_gradient.defvjp(_reverse_forward, _reverse_backward)


def init_domain_head(key: jax.Array, features: int, hidden: int = DOMAIN_HIDDEN) -> dict:
    """The domain classifier's parameters: ``features -> hidden`` ReLU -> 1 logit (LeCun
    normal weights, zero biases)."""
    k1, k2 = jax.random.split(key)
    init = jax.nn.initializers.lecun_normal()
    return {"w1": init(k1, (features, hidden)), "b1": jnp.zeros(hidden),
            "w2": init(k2, (hidden, 1)), "b2": jnp.zeros(1)}


def domain_confusion_loss(head: dict, source: jax.Array, target: jax.Array) -> jax.Array:
    """The domain classifier's mean binary cross-entropy (source 0, target 1) on features
    seen through ``reverse_gradient``: minimizing it trains the head to tell the domains
    apart and the features (through the reversal) to hide them. A float scalar."""
    features = reverse_gradient(jnp.concatenate([source, target]), jnp.ones(()))
    hidden = jax.nn.relu(features @ head["w1"] + head["b1"])
    logits = (hidden @ head["w2"] + head["b2"])[:, 0]
    domain = jnp.concatenate([jnp.zeros(len(source)), jnp.ones(len(target))])
    return optax.sigmoid_binary_cross_entropy(logits, domain).mean()


def adaptation_loss(method: str, features: Callable[[Any, jax.Array], jax.Array],
                    weight: float, x_target: jax.Array, key: jax.Array,
                    domain_head: Callable[[Any], dict] | None = None
                    ) -> Callable[[Any, jax.Array, jax.Array], jax.Array]:
    """``loss(params, x, step)``: ``weight`` x CORAL or domain confusion between
    ``features(params, x)`` of a source batch and of a target batch of the same size, drawn
    from ``x_target`` at ``fold_in(key, step)`` (a resumed run draws the same ones).

    Args:
      method: "coral" or "dann".
      features: ``(params, x) -> float (batch, d)``.
      weight: the term's weight.
      x_target: float (m, ...): the target's unlabelled inputs.
      key: the target batches' key.
      domain_head: for "dann", ``params -> the domain classifier's parameters``
        (``init_domain_head``'s).
    """
    def loss(params, x: jax.Array, step: jax.Array) -> jax.Array:
        rows = jax.random.randint(jax.random.fold_in(key, step), (x.shape[0],), 0,
                                  x_target.shape[0])
        source, target = features(params, x), features(params, x_target[rows])
        extra = (coral_loss(source, target) if method == "coral" else
                 domain_confusion_loss(domain_head(params), source, target))
        return weight * extra

    return loss
