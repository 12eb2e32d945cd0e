"""Models trained on subsets of one training set, as members of one vmap population.

What cross-validation (a member per fold) and the learning curve (a member per fraction and
seed) have in common: the members differ only in which examples they may draw.
"""

import jax
import numpy as np

from jaxdiag.search import Data, PopulationResult, Task, mlp_task, train_population


def subset_task(task: Task | None, x: np.ndarray, num_classes: int, width: int,
                depth: int) -> Task:
    """``task``, or when None the default: an Adam ``mlp_task`` of ``depth`` x ``width``."""
    if task is not None:
        return task
    return mlp_task(tuple(x.shape[1:]), num_classes, hidden=(width,) * depth, optimizer="adam")


ROWS = 8192  # examples whose logits every member computes at once


def train_on_subsets(
    x: np.ndarray,
    y: np.ndarray,
    masks: np.ndarray,
    task: Task,
    *,
    dev: tuple[np.ndarray, np.ndarray] | None = None,
    steps: int,
    batch_size: int,
    learning_rate: float,
    weight_decay: float = 0.0,
    seed: int = 0,
    progress: str | None = None,
) -> tuple[np.ndarray, PopulationResult]:
    """Trains one member of ``task`` per row of ``masks`` on the examples that row keeps.

    Args:
      x: float (n, ...) normalized inputs; y: int (n,) labels in [0, num_classes).
      masks: bool (K, n): the examples each member may draw.
      task: the members' model (``mlp_task``, or the user's through ``ModelTask``).
      dev: (x_dev, y_dev) for the population's dev error; none scored when None.
      steps, learning_rate, weight_decay: every member's training.
      batch_size: examples per step, capped at the smallest subset.
      seed: member k is seeded ``seed * 1000 + k``.
      progress: the progress bar's label; no bar when None.

    Returns:
      (float32 (K, n, num_classes) evaluation-mode logits of every member on all of x, the
      PopulationResult).
    """
    members = len(masks)
    hparams = {"learning_rate": np.full(members, learning_rate),
               "weight_decay": np.full(members, weight_decay)}
    x_dev, y_dev = dev if dev is not None else (x[:1], y[:1])
    result = train_population(task, hparams, seed * 1000 + np.arange(members),
                              Data(x, y, x_dev, y_dev), steps=steps,
                              batch_size=min(batch_size, int(masks.sum(1).min())),
                              train_masks=masks, progress=progress)
    member_logits = jax.jit(jax.vmap(task.logits, in_axes=(0, 0, None)))
    # a block of rows at a time: every member's activations on all of x at once took
    # members x n x width floats (1.2 GB for 12 members on 100k examples)
    logits = np.concatenate([
        np.asarray(member_logits(result.params, result.model_state, x[start:start + ROWS]))
        for start in range(0, len(x), ROWS)], axis=1)
    return logits, result
