"""Learning curve: would more training data help?

Models are trained on growing fractions of the training set, the fractions (times a few seeds)
as members of one vmap population with per-member sample masks. A power law
``error(n) = c + a * n**-b`` fitted to the dev error says how much doubling the data should
buy, and where the curve flattens out (Goodfellow et al. 11.3, "determining whether to
gather more data"; Hestness et al. 2017 for the power law).
"""

from typing import NamedTuple

import numpy as np

from jaxdiag.diagnose.subset_models import subset_task, train_on_subsets
from jaxdiag.search import Task

FRACTIONS = (1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0)
MIN_GAIN = 0.005  # doubling the data must lower dev error by half a point ...
MIN_RELATIVE_GAIN = 0.05  # ... and by 5% of it, to count as "likely to help"


class PowerLaw(NamedTuple):
    """``error(n) = c + a * n**-b`` (a >= 0, b >= 0, c >= 0)."""

    a: float
    b: float
    c: float

    def __call__(self, n: np.ndarray | float) -> np.ndarray | float:
        return self.c + self.a * np.asarray(n, np.float64) ** -self.b


class LearningCurve(NamedTuple):
    """Train and dev error against training-set size.

    Attributes:
      sizes: int (F,): training examples per fraction.
      train_error, dev_error: float (F,): means over seeds.
      dev_error_std: float (F,): standard deviation over seeds (0 with one seed).
      law: the power law fitted to the dev error.
      at_double: the law's dev error with twice the largest size.
      more_data_helps: whether doubling the data lowers the fitted dev error by at least
        half a point and 5%.
      message: the answer to "should we gather more data?", in one sentence.
    """

    sizes: np.ndarray
    train_error: np.ndarray
    dev_error: np.ndarray
    dev_error_std: np.ndarray
    law: PowerLaw
    at_double: float
    more_data_helps: bool
    message: str

    def as_dict(self) -> dict:
        return {"sizes": self.sizes.tolist(), "train_error": self.train_error.tolist(),
                "dev_error": self.dev_error.tolist(),
                "dev_error_std": self.dev_error_std.tolist(), "law": self.law._asdict(),
                "at_double": self.at_double, "more_data_helps": self.more_data_helps,
                "message": self.message}


def fit_power_law(sizes: np.ndarray, errors: np.ndarray) -> PowerLaw:
    """Least-squares fit of ``c + a * n**-b`` to (sizes, errors).

    For each floor c on a grid of 200 values in [0, min(errors)), log(error - c) is a straight
    line in log(n) (slope -b, clipped to b >= 0); the c with the smallest squared error in
    error space wins.

    Args:
      sizes: positive (F,) with at least 3 distinct values; errors: (F,) in [0, 1].

    Raises:
      ValueError: fewer than 3 distinct sizes, or shapes that differ.
    """
    n, e = np.asarray(sizes, np.float64), np.asarray(errors, np.float64)
    if n.shape != e.shape or n.ndim != 1 or len(np.unique(n)) < 3 or np.any(n <= 0):
        raise ValueError(f"sizes, errors: expected two 1-D arrays of one length with at least "
                         f"3 distinct positive sizes, found {n.tolist()} and {e.tolist()}.")
    floors = np.linspace(0.0, e.min(), 200, endpoint=False)[:, None]  # (G, 1)
    log_n = np.log(n)
    y = np.log(np.maximum(e - floors, 1e-12))  # (G, F)
    centred = log_n - log_n.mean()
    slope = np.minimum((y * centred).sum(1) / (centred**2).sum(), 0.0)  # (G,), -b
    intercept = y.mean(1) - slope * log_n.mean()
    predicted = floors + np.exp(intercept[:, None] + slope[:, None] * log_n)
    best = int(np.argmin(((predicted - e) ** 2).sum(1)))
    return PowerLaw(float(np.exp(intercept[best])), float(-slope[best]), float(floors[best, 0]))


def learning_curve(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_dev: np.ndarray,
    y_dev: np.ndarray,
    num_classes: int,
    *,
    fractions: tuple[float, ...] = FRACTIONS,
    seeds: int = 2,
    steps: int = 1000,
    batch_size: int = 64,
    width: int = 128,
    depth: int = 2,
    learning_rate: float = 1e-3,
    seed: int = 0,
    task: Task | None = None,
    progress: str | None = None,
) -> LearningCurve:
    """Trains ``len(fractions) * seeds`` models as one population and fits the curve.

    Args:
      x_train, y_train: normalized training inputs (n, ...) and int labels (n,).
      x_dev, y_dev: the split whose error the curve predicts.
      num_classes: C.
      fractions: increasing fractions in (0, 1] of the training set; at least 3. Each seed
        draws one permutation and a fraction f trains on its first round(f * n) examples, so
        the subsets are nested.
      seeds: repetitions per fraction (initialization, minibatches and subset).
      steps, batch_size, learning_rate: every member's training.
      width, depth: the default model's (an AdamW MLP) when ``task`` is None.
      seed: the base seed.
      task: the members' model (e.g. ``ModelTask`` of the user's model).
      progress: the progress bar's label; no bar when None.

    Returns:
      LearningCurve.
    """
    n = len(y_train)
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) < 3 or list(fractions) != sorted(set(fractions)) or not (
            0 < fractions[0] and fractions[-1] <= 1):
        raise ValueError(f"fractions: expected at least 3 increasing values in (0, 1], found "
                         f"{fractions}.")
    if seeds < 1:
        raise ValueError(f"seeds: expected a positive integer, found {seeds}.")
    sizes = np.maximum(np.round(np.array(fractions) * n).astype(int), 1)
    masks = np.zeros((seeds, len(fractions), n), bool)
    for s in range(seeds):  # a few host-side permutations, not a data loop
        order = np.random.default_rng(seed + s).permutation(n)
        for f, size in enumerate(sizes):
            masks[s, f, order[:size]] = True
    masks = masks.reshape(-1, n)
    logits, result = train_on_subsets(
        x_train, y_train, masks, subset_task(task, x_train, num_classes, width, depth),
        dev=(x_dev, y_dev), steps=steps, batch_size=batch_size, learning_rate=learning_rate,
        seed=seed, progress=progress)  # (K, n, C)
    wrong = np.argmax(logits, -1) != y_train
    train_error = ((wrong & masks).sum(1) / masks.sum(1)).reshape(seeds, -1).mean(0)
    dev = result.dev_error.reshape(seeds, -1)
    dev_error, dev_std = dev.mean(0), dev.std(0)
    law = fit_power_law(sizes, dev_error)
    now, doubled = float(law(sizes[-1])), float(law(2 * sizes[-1]))
    gain = now - doubled
    helps = gain >= MIN_GAIN and gain >= MIN_RELATIVE_GAIN * now
    message = (f"dev error {dev_error[-1]:.2%} with {sizes[-1]} examples; the fitted power law "
               f"(exponent {law.b:.2f}, floor {law.c:.2%}) predicts {doubled:.2%} with "
               f"{2 * sizes[-1]}: " + ("more data is likely to help" if helps else
                                       "more data of this kind is unlikely to help much"))
    return LearningCurve(sizes, train_error, dev_error, dev_std, law, doubled, bool(helps),
                         message)
