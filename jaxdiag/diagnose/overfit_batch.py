"""Overfit a single batch: the training step must drive the loss on one batch near zero.

Full Stack Deep Learning's first debugging step: a model that cannot memorize one small batch
has a bug (or a hopeless learning rate). When it fails, the shape of the loss curve says which:
it goes up, explodes, oscillates or plateaus (``loss_curve_pathologies``).
"""

from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import jax
import numpy as np

from jaxdiag.diagnose.loss_curve import CurveFinding, loss_curve_pathologies

SLOW_CAUSES = (
    "learning rate too low",
    "too few steps for this model: raise the step budget",
    "the model is too small to memorize the batch",
)


class OverfitResult(NamedTuple):
    """The outcome of ``overfit_one_batch``.

    Attributes:
      passed: the loss fell to ``target_loss`` or below within the step budget.
      initial_loss, final_loss: the first and the last step's loss.
      steps_to_target: the first step (1-based) at or below the target, or None.
      losses: float64 (steps,): the loss at every step.
      findings: the loss curve's pathologies when it failed; when it failed without one, a
        single "too_slow" finding (the loss fell, but not far enough).
    """

    passed: bool
    initial_loss: float
    final_loss: float
    steps_to_target: int | None
    losses: np.ndarray
    findings: list[CurveFinding]

    def as_dict(self) -> dict:
        return {"passed": self.passed, "initial_loss": self.initial_loss,
                "final_loss": self.final_loss, "steps_to_target": self.steps_to_target,
                "findings": [f.as_dict() for f in self.findings]}


def overfit_one_batch(
    train_step: Callable[[Any, jax.Array, jax.Array], tuple[Any, jax.Array]],
    state: Any,
    x: jax.Array,
    y: jax.Array,
    *,
    steps: int = 300,
    target_loss: float = 0.05,
) -> OverfitResult:
    """Trains on the single batch (x, y) for ``steps`` steps in one compiled ``lax.scan``.

    Args:
      train_step: ``(state, x, y) -> (state, loss)``, the step used for real training.
      state: the initial state (a pytree; not changed).
      x, y: one batch.
      steps: the step budget.
      target_loss: the loss a working model reaches on one batch within the budget.

    Returns:
      OverfitResult; ``findings`` say what went wrong when it did not pass.
    """
    if steps < 8:
        raise ValueError(f"steps: expected at least 8 steps to judge a curve, found {steps}.")
    losses = np.asarray(_train_on_batch(train_step, state, x, y, steps), np.float64)
    reached = np.flatnonzero(losses <= target_loss)
    passed = len(reached) > 0
    findings = [] if passed else loss_curve_pathologies(np.arange(1, steps + 1), losses)
    if not passed and not findings:
        findings = [CurveFinding(
            "too_slow", steps,
            f"the loss fell from {losses[0]:.4g} to {losses[-1]:.4g} but not to "
            f"{target_loss} in {steps} steps", SLOW_CAUSES)]
    return OverfitResult(passed, float(losses[0]), float(losses[-1]),
                         int(reached[0]) + 1 if passed else None, losses, findings)


@partial(jax.jit, static_argnums=(0, 4))
def _train_on_batch(train_step, state, x, y, steps):
    def body(state, _):
        return train_step(state, x, y)

    return jax.lax.scan(body, state, length=steps)[1]
