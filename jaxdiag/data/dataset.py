"""The in-memory labelled data set every other floor consumes."""

from dataclasses import dataclass

import numpy as np

from jaxdiag.data.mapped import take_rows


@dataclass(frozen=True)
class Dataset:
    """Labelled examples held as NumPy arrays.

    Attributes:
      x: float32 array, shape (n, d) for tabular data or (n, h, w, c) for images; in memory,
        or read-only and memory-mapped from a file (``load_file``), which ``take`` reads a
        block of rows at a time.
      y: int32 array, shape (n,), labels in [0, num_classes).
      class_names: one name per class; num_classes is its length.
      origin: where the examples came from (a file path or a built-in name), for messages.
    """

    x: np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...]
    origin: str

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def take(self, indices: np.ndarray, origin: str | None = None) -> "Dataset":
        """The examples at ``indices`` (int array, shape (m,)), in that order."""
        return Dataset(take_rows(self.x, indices), self.y[indices], self.class_names,
                       origin or self.origin)

    def with_x(self, x: np.ndarray, origin: str) -> "Dataset":
        """The same labels with new inputs ``x`` (same leading size)."""
        return Dataset(x.astype(np.float32), self.y, self.class_names, origin)
