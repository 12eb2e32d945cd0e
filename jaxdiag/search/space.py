"""Search spaces: named hyperparameters, each a map from a unit-cube coordinate to a value.

A point of a ``Space`` is a dict {name: value}. Samplers work in the unit cube [0, 1)^d, one
coordinate per hyperparameter, and ``Space.decode`` maps their points to values; GP-based
search maps observed values back with ``Space.encode``.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from jaxdiag.checks import require


@dataclass(frozen=True)
class Uniform:
    """A float uniform on [low, high]."""

    low: float
    high: float
    when: Mapping[str, Sequence[Any]] = field(default_factory=dict)

    def validate(self, name: str) -> None:
        require(self.low < self.high, f"{name}.low", f"less than high = {self.high}", self.low)

    def decode(self, u: np.ndarray) -> np.ndarray:
        return self.low + u * (self.high - self.low)

    def encode(self, value: np.ndarray) -> np.ndarray:
        return (value - self.low) / (self.high - self.low)

    def grid(self, n: int) -> list:
        return list(np.linspace(self.low, self.high, n))


@dataclass(frozen=True)
class LogUniform:
    """A float whose logarithm is uniform on [log low, log high]; both bounds positive."""

    low: float
    high: float
    when: Mapping[str, Sequence[Any]] = field(default_factory=dict)

    def validate(self, name: str) -> None:
        require(self.low > 0, f"{name}.low", "a positive bound (log scale)", self.low)
        require(self.high > 0, f"{name}.high", "a positive bound (log scale)", self.high)
        require(self.low < self.high, f"{name}.low", f"less than high = {self.high}", self.low)

    def decode(self, u: np.ndarray) -> np.ndarray:
        return np.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))

    def encode(self, value: np.ndarray) -> np.ndarray:
        return (np.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))

    def grid(self, n: int) -> list:
        return list(np.geomspace(self.low, self.high, n))


@dataclass(frozen=True)
class Integer:
    """An integer uniform on {low, ..., high} (both included)."""

    low: int
    high: int
    when: Mapping[str, Sequence[Any]] = field(default_factory=dict)

    def validate(self, name: str) -> None:
        for bound in ("low", "high"):
            value = getattr(self, bound)
            require(isinstance(value, int | np.integer), f"{name}.{bound}", "an integer", value)
        require(self.low < self.high, f"{name}.low", f"less than high = {self.high}", self.low)

    def decode(self, u: np.ndarray) -> np.ndarray:
        count = self.high - self.low + 1
        return self.low + np.minimum((u * count).astype(np.int64), count - 1)

    def encode(self, value: np.ndarray) -> np.ndarray:
        return (np.asarray(value) - self.low + 0.5) / (self.high - self.low + 1)

    def grid(self, n: int) -> list:
        return sorted({round(v) for v in np.linspace(self.low, self.high, n)})


@dataclass(frozen=True)
class Categorical:
    """One of ``choices`` (numbers or strings), each with equal probability."""

    choices: tuple
    when: Mapping[str, Sequence[Any]] = field(default_factory=dict)

    def validate(self, name: str) -> None:
        require(len(self.choices) > 0, f"{name}.choices", "at least one choice", self.choices)

    def decode(self, u: np.ndarray) -> np.ndarray:
        index = np.minimum((u * len(self.choices)).astype(np.int64), len(self.choices) - 1)
        return np.asarray(self.choices, dtype=object)[index]

    def encode(self, value: np.ndarray) -> np.ndarray:
        index = np.array([self.choices.index(v) for v in np.asarray(value, dtype=object)])
        return (index + 0.5) / len(self.choices)

    def grid(self, n: int) -> list:
        return list(self.choices)


@dataclass(frozen=True)
class Fixed:
    """A constant: part of every point, never searched."""

    value: Any
    when: Mapping[str, Sequence[Any]] = field(default_factory=dict)

    def validate(self, name: str) -> None:
        pass

    def decode(self, u: np.ndarray) -> np.ndarray:
        return np.full(u.shape, self.value, dtype=object)

    def encode(self, value: np.ndarray) -> np.ndarray:
        return np.full(np.shape(value), 0.5)

    def grid(self, n: int) -> list:
        return [self.value]


Param = Uniform | LogUniform | Integer | Categorical | Fixed


class Space:
    """An ordered set of named hyperparameters.

    A parameter with ``when={"optimizer": ("sgd",)}`` is conditional: it is active only in
    points whose ``optimizer`` is "sgd"; elsewhere it takes ``defaults[name]`` (the members
    of a population all carry every hyperparameter, so an inactive one still needs a value).

    Args:
      params: {name: Uniform | LogUniform | Integer | Categorical | Fixed}.
      defaults: values of conditional parameters where inactive; required for each of them.

    Raises:
      ValueError: an empty space, a bad bound or choice list, a condition on an unknown or
        later parameter, or a conditional parameter without a default.
    """

    def __init__(self, params: Mapping[str, Param], defaults: Mapping[str, Any] | None = None):
        require(len(params) > 0, "params", "at least one hyperparameter", dict(params))
        self.params = dict(params)
        self.defaults = dict(defaults or {})
        names = list(self.params)
        for i, (name, param) in enumerate(self.params.items()):
            require(isinstance(param, Param), name,
                   "Uniform, LogUniform, Integer, Categorical or Fixed", param)
            param.validate(name)
            for parent in param.when:
                require(parent in names[:i], f"{name}.when",
                       f"a condition on an earlier parameter of {names[:i]}", parent)
            if param.when:
                require(name in self.defaults, f"defaults[{name!r}]",
                       "a value for the conditional parameter where it is inactive", None)

    @property
    def names(self) -> list[str]:
        return list(self.params)

    @property
    def dimension(self) -> int:
        """Coordinates of the unit cube: one per hyperparameter."""
        return len(self.params)

    def decode(self, unit: np.ndarray) -> list[dict[str, Any]]:
        """Points {name: value} of unit-cube points ``unit`` (shape (k, dimension))."""
        unit = np.asarray(unit, np.float64)
        require(unit.ndim == 2 and unit.shape[1] == self.dimension, "unit",
               f"shape (k, {self.dimension})", unit.shape)
        columns = {name: param.decode(unit[:, j])
                   for j, (name, param) in enumerate(self.params.items())}
        points = [{name: _plain(columns[name][i]) for name in self.params}
                  for i in range(unit.shape[0])]
        return [self.apply_conditions(point) for point in points]

    def encode(self, points: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Unit-cube coordinates, shape (k, dimension), of points of this space."""
        return np.stack([param.encode(np.array([p[name] for p in points], dtype=object)
                                      if isinstance(param, Categorical | Fixed)
                                      else np.array([p[name] for p in points], np.float64))
                         for name, param in self.params.items()], axis=1).astype(np.float64)

    def apply_conditions(self, point: dict[str, Any]) -> dict[str, Any]:
        """``point`` with each inactive conditional parameter set to its default."""
        out = dict(point)
        for name, param in self.params.items():
            if any(out[parent] not in allowed for parent, allowed in param.when.items()):
                out[name] = self.defaults[name]
        return out

    def grid(self, points_per_axis: int) -> list[dict[str, Any]]:
        """The full grid: ``points_per_axis`` values per numeric axis, every choice of the
        categorical ones; duplicates made by inactive conditional parameters removed."""
        require(points_per_axis >= 1, "points_per_axis", "at least 1", points_per_axis)
        axes = [param.grid(points_per_axis) for param in self.params.values()]
        mesh = np.stack(np.meshgrid(*[np.arange(len(a)) for a in axes], indexing="ij"), -1)
        seen, points = set(), []
        for index in mesh.reshape(-1, len(axes)):
            values = (_plain(axis[i]) for axis, i in zip(axes, index, strict=True))
            point = self.apply_conditions(dict(zip(self.params, values, strict=True)))
            key = tuple(point.items())
            if key not in seen:
                seen.add(key)
                points.append(point)
        return points


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python scalar it holds (JSON- and SQLite-friendly)."""
    return value.item() if isinstance(value, np.generic) else value


_KINDS = {"uniform": (Uniform, ("low", "high")), "log_uniform": (LogUniform, ("low", "high")),
          "integer": (Integer, ("low", "high")), "categorical": (Categorical, ("choices",)),
          "fixed": (Fixed, ("value",))}


def space_from_dict(values: Mapping[str, Mapping[str, Any]], prefix: str = "space") -> Space:
    """A ``Space`` from TOML-style tables.

    Example: {"learning_rate": {"type": "log_uniform", "low": 1e-4, "high": 1.0},
    "momentum": {"type": "uniform", "low": 0.0, "high": 0.99,
    "when": {"optimizer": ["sgd"]}, "default": 0.0}}.

    Raises:
      ValueError: an unknown type or key, or a missing one, naming the dotted key.
    """
    params, defaults = {}, {}
    for name, table in values.items():
        key = f"{prefix}.{name}"
        if not isinstance(table, Mapping):
            raise ValueError(f"config key {key!r}: expected a table, found {table!r}.")
        kind = table.get("type")
        if kind not in _KINDS:
            raise ValueError(f"config key '{key}.type': expected one of {sorted(_KINDS)}, "
                             f"found {kind!r}.")
        cls, required = _KINDS[kind]
        allowed = {"type", "when", "default", *required}
        for field_name in table:
            if field_name not in allowed:
                raise ValueError(f"config key '{key}.{field_name}': unknown key; expected one "
                                 f"of {sorted(allowed)}.")
        for field_name in required:
            if field_name not in table:
                raise ValueError(f"config key '{key}.{field_name}': missing.")
        kwargs = {f: tuple(table[f]) if f == "choices" else table[f] for f in required}
        when = {parent: tuple(allowed_values)
                for parent, allowed_values in dict(table.get("when", {})).items()}
        params[name] = cls(**kwargs, when=when)
        if "default" in table:
            defaults[name] = table["default"]
    try:
        return Space(params, defaults)
    except ValueError as e:
        raise ValueError(f"config key '{prefix}.{e}") from None
