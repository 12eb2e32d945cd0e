"""Loss-curve pathologies: the curve goes up, explodes, oscillates or plateaus.

The four ways "overfit a single batch" fails in Full Stack Deep Learning's troubleshooting
lecture (Spring 2021, lecture 7), each with the causes the lecture lists. The detector reads a
logged curve on the host, with robust statistics (running interquartile means, median absolute
deviations, interquartile means), so minibatch noise and the odd spike raise no alarm.
"""

from typing import NamedTuple

import numpy as np

PATHOLOGY_CAUSES = {
    "explodes": (
        "learning rate too high",
        "numerical instability: an exp, log or division of an unbounded value",
    ),
    "goes_up": (
        "the sign of the loss or of the gradient is flipped",
        "learning rate too high",
        "softmax taken over the wrong axis",
    ),
    "oscillates": (
        "learning rate too high",
        "data or labels corrupted: zeroed, shuffled apart from each other, or "
        "preprocessed wrongly",
    ),
    "plateaus": (
        "learning rate too low",
        "gradients do not flow through the whole model",
        "regularization too strong",
        "wrong input to the loss: probabilities where it expects logits, a ReLU on the output",
        "data or labels corrupted",
    ),
}
PATHOLOGIES = tuple(PATHOLOGY_CAUSES)

EXPLOSION_FACTOR = 10.0  # a jump by an order of magnitude over the recent running median
RISE_FRACTION = 0.1  # goes up: the end sits this fraction of the initial loss above the minimum
OSCILLATION_FRACTION = 0.1  # robust spread of the last half, as a fraction of the initial loss
PLATEAU_FRACTION = 0.5  # plateaus: flat, and still above this fraction of the initial loss
FLAT_FRACTION = 0.03  # flat: the last half's level moves less than this fraction of the start


class CurveFinding(NamedTuple):
    """One pathology of a loss curve.

    Attributes:
      kind: one of PATHOLOGIES.
      step: the logged step where it shows first.
      evidence: the numbers behind it, in words.
      causes: its likely causes, most common first.
    """

    kind: str
    step: int
    evidence: str
    causes: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"kind": self.kind, "step": self.step, "evidence": self.evidence,
                "causes": list(self.causes)}


def loss_curve_pathologies(steps: np.ndarray, losses: np.ndarray,
                           initial_loss: float | None = None) -> list[CurveFinding]:
    """The pathologies of a logged loss curve, in the order of ``PATHOLOGIES``.

    Args:
      steps: increasing steps, shape (n,).
      losses: the loss logged at each step, shape (n,); NaN/Inf allowed (that is an
        explosion). Curves of fewer than 8 points are only checked for explosions.
      initial_loss: the loss before the first step, when known; it joins the curve as its
        first point (a curve logged as means of chunks of steps may start after the blow-up).

    Returns:
      A list of CurveFinding, empty for a healthy curve. "explodes": a NaN/Inf loss, or a loss
      above the first loss and 10x the running median of the points before it. "goes_up":
      the last quarter's level sits above the curve's smoothed minimum by more than 10% of the
      initial loss, more than half the drop before that minimum and more than the noise.
      "oscillates": the robust spread of the last half around its running level exceeds 10%
      of the initial loss and half its level. "plateaus": the last half is flat and still
      above half the initial loss (and nothing else was found). The later checks read only
      the finite points before an explosion.

    Raises:
      ValueError: steps and losses of different shapes, not 1-D, or steps not increasing.
    """
    steps, losses = np.asarray(steps), np.asarray(losses, np.float64)
    if steps.ndim != 1 or steps.shape != losses.shape:
        raise ValueError(f"steps, losses: expected two 1-D arrays of one length, found shapes "
                         f"{steps.shape} and {losses.shape}.")
    if np.any(np.diff(steps) <= 0):
        raise ValueError("steps: expected increasing steps, found a step that does not increase.")
    if initial_loss is not None and len(steps):
        steps = np.concatenate([[steps[0] - 1], steps])
        losses = np.concatenate([[float(initial_loss)], losses])
    if len(losses) == 0:
        return []
    findings = []
    explosion = _explosion(losses)
    if explosion is not None:
        index, evidence = explosion
        findings.append(_finding("explodes", steps[index], evidence))
        steps, losses = steps[:index], losses[:index]
    n = len(losses)
    if n < 8:
        return findings
    window = _odd(max(3, n // 10))
    level = _running_level(losses, window)
    initial = _middle_mean(losses[: max(3, n // 20)])
    scale = max(abs(initial), 1e-12)
    low = int(np.argmin(level))
    final = _middle_mean(losses[-max(2, n // 4):])
    rise, drop = final - level[low], initial - level[low]
    if rise > max(RISE_FRACTION * scale, 0.5 * drop, _robust_std(losses - level)):
        start = low + int(np.argmax(level[low:] > level[low] + rise / 2))
        findings.append(_finding(
            "goes_up", steps[start],
            f"the loss rose from a minimum of {level[low]:.4g} (step {steps[low]}) to "
            f"{final:.4g} at the end; it started at {initial:.4g}"))
    half = slice(n // 2, None)
    spread = _robust_std(losses[half] - level[half])
    late_level = _middle_mean(losses[half])
    if spread > OSCILLATION_FRACTION * scale and spread > 0.5 * abs(late_level):
        findings.append(_finding(
            "oscillates", steps[n // 2],
            f"over the last half the loss swings by {spread:.4g} (robust std) around a level "
            f"of {late_level:.4g}; it started at {initial:.4g}"))
    movement = float(np.max(level[half]) - np.min(level[half]))
    if (movement < FLAT_FRACTION * scale and late_level > PLATEAU_FRACTION * initial
            and not findings):
        findings.append(_finding(
            "plateaus", steps[n // 2],
            f"the loss stays at {late_level:.4g} over the last half (it started at "
            f"{initial:.4g}; its running level moves by {movement:.2g})"))
    return findings


def _finding(kind: str, step: int, evidence: str) -> CurveFinding:
    return CurveFinding(kind, int(step), evidence, PATHOLOGY_CAUSES[kind])


def _explosion(losses: np.ndarray) -> tuple[int, str] | None:
    """The first index where the loss is not finite, or jumps by an order of magnitude."""
    bad = ~np.isfinite(losses)
    first_bad = int(np.argmax(bad)) if bad.any() else len(losses)
    finite = losses[:first_bad]
    initial = finite[0] if len(finite) else np.nan
    window = max(3, len(losses) // 20)
    if len(finite) > 1:
        before = np.pad(finite[:-1], (window - 1, 0), constant_values=np.nan)
        recent = np.nanmedian(np.lib.stride_tricks.sliding_window_view(before, window), axis=1)
        jumps = (finite[1:] > np.maximum(EXPLOSION_FACTOR * recent, initial)) & (recent > 0)
        if jumps.any():
            i = int(np.argmax(jumps))
            return i + 1, (f"the loss jumped to {finite[i + 1]:.4g} from a running median of "
                           f"{recent[i]:.4g} ({finite[i + 1] / recent[i]:.0f}x)")
    if first_bad < len(losses):
        return first_bad, f"the loss became {losses[first_bad]}"
    return None


def _odd(k: int) -> int:
    return k + 1 - k % 2


def _robust_std(x: np.ndarray) -> float:
    """1.4826 times the median absolute deviation: the std of normal noise, blind to spikes."""
    return 1.4826 * float(np.median(np.abs(x - np.median(x))))


def _middle_mean(x: np.ndarray, axis: int = -1) -> np.ndarray | float:
    """Interquartile mean: the mean of the middle half. Unlike the median it stays put on a
    curve that jumps between two levels; unlike the mean it ignores the odd spike."""
    x = np.sort(x, axis=axis)
    n = x.shape[axis]
    lo, hi = n // 4, n - n // 4
    middle = np.take(x, np.arange(lo, max(hi, lo + 1)), axis=axis)
    out = middle.mean(axis=axis)
    return float(out) if np.ndim(out) == 0 else out


def _running_level(x: np.ndarray, window: int) -> np.ndarray:
    """Centred running interquartile mean of odd ``window``; the ends repeat the edge points."""
    half = window // 2
    padded = np.pad(x, half, mode="edge")
    return _middle_mean(np.lib.stride_tricks.sliding_window_view(padded, window))
