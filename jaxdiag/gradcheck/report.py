"""What a gradient check found: per-leaf errors, the worst coordinates, a readable table."""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class LeafCheck:
    """The check of one parameter leaf.

    Attributes:
      path: the leaf's path in the parameter pytree, e.g. ``"dense_1/kernel"``.
      shape: the leaf's shape.
      num_directions: random unit directions checked.
      num_coordinates: coordinate axes checked (every coordinate of a small leaf).
      relative_error: the worst relative error over those directions and coordinates.
      ok: ``relative_error <= rtol``.
    """

    path: str
    shape: tuple[int, ...]
    num_directions: int
    num_coordinates: int
    relative_error: float
    ok: bool


@dataclass(frozen=True)
class Coordinate:
    """One checked coordinate: ``analytic`` is back-propagated, ``numerical`` finite-differenced."""

    path: str
    index: tuple[int, ...]
    analytic: float
    numerical: float
    relative_error: float


@dataclass(frozen=True)
class GradcheckReport:
    """The result of ``jaxdiag.gradcheck``.

    Attributes:
      ok: every leaf passed.
      worst_relative_error: the largest relative error of any direction or coordinate.
      worst_leaf: the path of the leaf that has it.
      leaves: one ``LeafCheck`` per floating-point leaf, keyed by path, in pytree order.
      worst_coordinates: the coordinates with the largest relative errors, worst first.
      eps, rtol, atol: the step and tolerances used; atol is in units of the derivative.
      dtype: the dtype the check ran in ("float32" or "float64").
      loss: the function's value at ``params``.
    """

    ok: bool
    worst_relative_error: float
    worst_leaf: str
    leaves: dict[str, LeafCheck]
    worst_coordinates: tuple[Coordinate, ...]
    eps: float
    rtol: float
    atol: float
    dtype: str
    loss: float

    @property
    def failed(self) -> list[str]:
        """Paths of the leaves that failed, in pytree order."""
        return [path for path, leaf in self.leaves.items() if not leaf.ok]

    def as_dict(self) -> dict:
        """JSON-ready form (for ``report.json``)."""
        out = asdict(self)
        out["failed"] = self.failed
        return out

    def __str__(self) -> str:
        verdict = "passed" if self.ok else f"FAILED at {', '.join(self.failed)}"
        width = max([len("leaf"), *map(len, self.leaves)])
        lines = [
            f"gradient check {verdict}: worst relative error {self.worst_relative_error:.2e} "
            f"({self.worst_leaf}); {self.dtype}, eps {self.eps:.0e}, rtol {self.rtol:.0e}, "
            f"atol {self.atol:.1e}, loss {self.loss:.6g}",
            f"{'leaf':<{width}}  {'shape':<14} {'dirs':>5} {'coords':>6}  {'rel error':>9}  status",
        ]
        for leaf in self.leaves.values():
            lines.append(f"{leaf.path:<{width}}  {leaf.shape!s:<14} {leaf.num_directions:>5} "
                         f"{leaf.num_coordinates:>6}  {leaf.relative_error:>9.2e}  "
                         f"{'ok' if leaf.ok else 'WRONG'}")
        if self.worst_coordinates:
            lines.append("worst coordinates (analytic vs numerical):")
            for c in self.worst_coordinates:
                lines.append(f"  {c.path}{list(c.index)}: {c.analytic:+.6e} vs {c.numerical:+.6e}"
                             f"  rel {c.relative_error:.2e}")
        return "\n".join(lines)
