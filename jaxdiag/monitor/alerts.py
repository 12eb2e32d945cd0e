"""Alerts from monitor statistics, each with its likely cause (host side, plain floats)."""

import math
from typing import NamedTuple

DEAD_FRACTION = 0.5  # more than half of a ReLU layer's units never fire on the batch
SATURATED_FRACTION = 0.5  # more than half of a tanh / sigmoid layer's outputs are flat
EXPLODING_NORM = 1e3  # global gradient norm
VANISHING_RATIO = 1e-4  # a leaf's gradient norm below this times the largest leaf's
UPDATE_RATIO_RANGE = (1e-5, 1e-1)  # the rule of thumb is about 1e-3


class Alert(NamedTuple):
    """One finding: what (``kind``), where (a layer or leaf path), the value and the cause."""

    kind: str
    where: str
    value: float
    cause: str


def monitor_alerts(activations: dict, gradients: dict, kinds: dict[str, str]) -> list[Alert]:
    """Alerts from the statistics of one step.

    Args:
      activations: {layer: ActivationStats} with scalar fields (arrays or floats).
      gradients: {leaf path: GradientStats} with scalar fields.
      kinds: {layer: activation function name}, from ``activation_kinds``.

    Returns:
      Alerts about dead units, saturation, exploding or vanishing gradients and update ratios
      far from 1e-3, in that order. Vanishing gradients are judged on the weights: a leaf
      named "bias" is never flagged (before BatchNorm or LayerNorm its gradient is zero by
      construction; a bias after a vanishing layer vanishes with that layer's weights).
    """
    out = []
    for layer, s in activations.items():
        if kinds.get(layer) == "relu" and float(s.dead_fraction) > DEAD_FRACTION:
            out.append(Alert("dead units", layer, float(s.dead_fraction),
                             "ReLUs that never fire: learning rate too high, a large negative "
                             "bias, or a bad initialization"))
        if float(s.saturated_fraction) > SATURATED_FRACTION:
            out.append(Alert("saturation", layer, float(s.saturated_fraction),
                             f"{kinds.get(layer)} units in their flat part: inputs not "
                             "normalized or weights initialized too large"))
    norms = {path: float(s.norm) for path, s in gradients.items()}
    total = math.sqrt(sum(n * n for n in norms.values()))
    if not math.isfinite(total) or total > EXPLODING_NORM:
        out.append(Alert("exploding gradients", "all", total,
                         "learning rate too high, unnormalized inputs or a numerically unstable "
                         "loss: lower the learning rate, clip gradients, check the data"))
    largest = max(norms.values(), default=0.0)
    for path, norm in norms.items():
        if path.rsplit("/", 1)[-1] == "bias":
            continue  # a bias that feeds a normalization layer has no gradient by construction
        if math.isfinite(largest) and largest > 0 and norm < VANISHING_RATIO * largest:
            out.append(Alert("vanishing gradients", path, norm,
                             "saturating activations or a deep stack without normalization or "
                             "residual connections; or a gradient stopped by mistake"))
    low, high = UPDATE_RATIO_RANGE
    for path, s in gradients.items():
        ratio = float(s.update_ratio)
        if ratio > high:
            out.append(Alert("update ratio high", path, ratio,
                             "updates are a large part of the weights (rule of thumb 1e-3): "
                             "learning rate too high"))
        elif 0 < ratio < low:
            out.append(Alert("update ratio low", path, ratio,
                             "updates are a tiny part of the weights (rule of thumb 1e-3): "
                             "learning rate too low"))
    return out


def distinct_alerts(monitor_history: list[dict]) -> list[dict]:
    """Each (kind, where) alert of a run's monitor history ({"step", "alerts": [Alert as
    dict]} records) once, with its first and last step, how many records raised it and its
    last value."""
    seen: dict[tuple[str, str], dict] = {}
    for record in monitor_history:
        for alert in record["alerts"]:
            entry = seen.setdefault((alert["kind"], alert["where"]),
                                    {**alert, "first_step": record["step"], "steps": 0})
            entry.update(value=alert["value"], last_step=record["step"], steps=entry["steps"] + 1)
    return list(seen.values())
