"""Floor 2: per-layer activation and per-leaf gradient statistics inside jit, and alerts;
from jaxdiag's own loop or the user's step (``step_statistics``)."""

from jaxdiag.monitor.alerts import Alert, distinct_alerts, monitor_alerts
from jaxdiag.monitor.capture import KINDS, activation_kinds
from jaxdiag.monitor.snapshot import layer_histograms
from jaxdiag.monitor.statistics import (
    ActivationStats,
    GradientStats,
    activation_stats,
    gradient_stats,
    histogram,
    leaf_gradient_stats,
)
from jaxdiag.monitor.user_step import step_statistics

__all__ = [
    "KINDS",
    "ActivationStats",
    "Alert",
    "GradientStats",
    "activation_kinds",
    "activation_stats",
    "distinct_alerts",
    "gradient_stats",
    "histogram",
    "layer_histograms",
    "leaf_gradient_stats",
    "monitor_alerts",
    "step_statistics",
]
