"""Are the features of a CNN trained on digits 0-4 better than pixels for digits 5-9?

    python experiments/feature_probe.py                  # about 1 min on 2 cores
    python experiments/feature_probe.py --translate 0    # pretraining without translations
    python experiments/feature_probe.py --steps 0        # the untrained trunk, as a control
    python experiments/feature_probe.py --reconstruct 10 # also reconstruct the pixels
    python experiments/feature_probe.py --reconstruct 1 --classify 0   # an autoencoder

A linear probe, the question behind the transfer experiment: the LeNet trunk
(``jaxdiag.models.LeNet``) is trained on every digit 0-4 with jaxdiag's train step (Adam
1e-3, shuffled batches of 64, images moved by up to ``--translate`` pixels at each step;
the loss is ``--classify`` x the cross-entropy of the 5 classes plus ``--reconstruct`` x the
mean squared error of a linear decoder from the dense layer back to the moved pixels),
then a logistic regression (scikit-learn, standardized inputs) is fitted on 10 labelled
examples per class of digits 5-9 and scored on the other examples of 5-9, over 5 seeds of
the labelled examples. Columns: the raw pixels, and the trunk's activations after each
pooled convolution and after its dense layer. Pixels scaled to [0, 1]; no dev set, no early
stopping: a probe, not a tuned model.
"""

import argparse

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from jaxdiag.data import load_digits, with_random_translations
from jaxdiag.experiment import (
    init_train_state,
    make_train_step,
    make_train_steps,
)
from jaxdiag.models import as_model
from jaxdiag.models.cnn import LeNet


class Pretrainer(nnx.Module):
    """A LeNet whose dense layer also feeds a linear decoder back to the pixels.

    Call: x (batch, h, w, c) -> (logits (batch, classes), pixels (batch, h * w * c)).
    """

    def __init__(self, lenet: LeNet, pixels: int, rngs: nnx.Rngs):
        self.lenet = lenet
        self.decoder = nnx.Linear(lenet.dense_1.in_features, pixels, rngs=rngs)

    def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        features = self.lenet.features(x)
        return self.lenet.dense_1(features), self.decoder(features)


def pretrain(x: np.ndarray, y: np.ndarray, args: argparse.Namespace) -> LeNet:
    """LeNet trained on (x, y) for ``args.steps`` Adam steps of shuffled minibatches of 64."""
    rngs = nnx.Rngs(args.seed)
    model = Pretrainer(LeNet(x.shape[1:], int(y.max()) + 1, channels=args.channels,
                             dense=args.dense, rngs=rngs), x[0].size, rngs)
    pure = as_model(model)
    params = pure.params

    def loss(params, state, x, y, key):
        (logits, pixels), state = pure.apply(params, state, x, key, True)
        squared_error = jnp.mean((pixels - x.reshape(len(x), -1)) ** 2)
        return (args.classify * optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
                + args.reconstruct * squared_error), state

    tx = optax.adam(1e-3)
    batches, moves, dropout = jax.random.split(jax.random.key(args.seed + 1), 3)
    step = with_random_translations(make_train_step(loss, tx, dropout), args.translate, moves)
    state, _ = make_train_steps(step, 64, batches)(
        init_train_state(params, tx), jnp.asarray(x), jnp.asarray(y), num_steps=args.steps)
    graph, trained, rest = nnx.split(model, nnx.Param, ...)
    nnx.replace_by_pure_dict(trained, state.params)
    return nnx.merge(graph, trained, rest).lenet


def layer_features(model: LeNet, x: np.ndarray) -> dict[str, np.ndarray]:
    """{column: (n, features)}: pixels and the trunk's activations after each layer."""
    pooled_0 = nnx.avg_pool(model.act(model.conv_0(jnp.asarray(x))), (2, 2), (2, 2))
    pooled_1 = nnx.avg_pool(model.act(model.conv_1(pooled_0)), (2, 2), (2, 2))
    flat_1 = pooled_1.reshape(len(x), -1)
    return {"pixels": x.reshape(len(x), -1), "conv_0": np.asarray(pooled_0.reshape(len(x), -1)),
            "conv_1": np.asarray(flat_1), "dense_0": np.asarray(model.act(model.dense_0(flat_1)))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--translate", type=int, default=1)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--channels", type=int, nargs=2, default=(32, 64))
    parser.add_argument("--dense", type=int, default=256)
    parser.add_argument("--classify", type=float, default=1.0,
                        help="weight of the 0-4 cross-entropy in pretraining")
    parser.add_argument("--reconstruct", type=float, default=0.0,
                        help="weight of the pixel reconstruction error in pretraining")
    parser.add_argument("--labels-per-class", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    digits = load_digits()
    x, y = digits.x / 16.0, digits.y
    source = y < 5
    model = pretrain(x[source], y[source], args)
    x_b, y_b = x[~source], y[~source] - 5
    features = layer_features(model, x_b)
    scores: dict[str, list[float]] = {name: [] for name in features}
    for seed in range(5):
        rng = np.random.default_rng(seed)
        train = np.concatenate([rng.choice(np.flatnonzero(y_b == c), args.labels_per_class,
                                           replace=False) for c in range(5)])
        test = np.setdiff1d(np.arange(len(y_b)), train)
        for name, f in features.items():
            scaler = StandardScaler().fit(f[train])
            probe = LogisticRegression(max_iter=5000).fit(scaler.transform(f[train]), y_b[train])
            scores[name].append(100 * probe.score(scaler.transform(f[test]), y_b[test]))
    print(f"trunk channels {tuple(args.channels)}, dense {args.dense}, {args.steps} steps on "
          f"digits 0-4, translations up to {args.translate} px, loss {args.classify} x "
          f"cross-entropy + {args.reconstruct} x reconstruction; probe on digits 5-9 with "
          f"{args.labels_per_class} labels per class, test accuracy over 5 seeds")
    print("| " + " | ".join(scores) + " |")
    print("| " + " | ".join("---" for _ in scores) + " |")
    print("| " + " | ".join(f"{np.mean(v):.1f} ± {np.std(v, ddof=1):.1f}%"
                            for v in scores.values()) + " |")


if __name__ == "__main__":
    main()
