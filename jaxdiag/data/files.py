"""User data from ``.npz`` (arrays ``x`` and ``y``) and ``.csv`` (a named label column)."""

import csv
from pathlib import Path

import numpy as np

from jaxdiag.data.dataset import Dataset

SUPPORTED_SUFFIXES = (".npz", ".csv")


def load_file(path: str | Path, label_column: str = "label") -> Dataset:
    """Loads and validates a labelled data file.

    Args:
      path: a ``.npz`` holding ``x`` (shape (n, d), (n, h, w) or (n, h, w, c)) and ``y``
        (shape (n,), non-negative integers); or a ``.csv`` with a header row, one numeric
        column per feature and the label column named ``label_column`` (integers, or any
        strings, which become classes in sorted order).
      label_column: name of the CSV label column; unused for ``.npz``.

    Returns:
      Dataset with x float32 ((n, h, w) gains a channel axis) and y int32.

    Raises:
      ValueError: naming the file and the problem: missing file, unknown suffix, unreadable
        file, missing key or column, mismatched lengths, NaN/Inf features, bad labels.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"data file {str(path)!r}: no such file.")
    if path.suffix not in SUPPORTED_SUFFIXES:
        raise ValueError(
            f"data file {str(path)!r}: expected a suffix in {SUPPORTED_SUFFIXES}, "
            f"found {path.suffix!r}."
        )
    if path.suffix == ".npz":
        x, y, class_names = _read_npz(path)
    else:
        x, y, class_names = _read_csv(path, label_column)
    return _validated(path, x, y, class_names)


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray, tuple[str, ...] | None]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except Exception as e:  # zip, pickle and format errors of a corrupt or foreign file
        raise ValueError(f"data file {str(path)!r}: not a readable .npz file ({e}).") from e
    missing = [k for k in ("x", "y") if k not in arrays]
    if missing:
        raise ValueError(
            f"data file {str(path)!r}: expected arrays 'x' and 'y', "
            f"missing {missing}, found {sorted(arrays)}."
        )
    return arrays["x"], arrays["y"], None


def _read_csv(path: Path, label_column: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    try:
        with path.open(newline="") as f:
            rows = list(csv.reader(f))
    except UnicodeDecodeError as e:
        raise ValueError(f"data file {str(path)!r}: not a text CSV file ({e}).") from e
    if not rows:
        raise ValueError(f"data file {str(path)!r}: the file is empty.")
    header, body = [h.strip() for h in rows[0]], [r for r in rows[1:] if r]
    if label_column not in header:
        raise ValueError(
            f"data file {str(path)!r}: expected a label column {label_column!r}, "
            f"found columns {header}."
        )
    label_at = header.index(label_column)
    features = [i for i in range(len(header)) if i != label_at]
    x = np.empty((len(body), len(features)), np.float64)
    labels = []
    for line, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ValueError(
                f"data file {str(path)!r}, line {line}: expected {len(header)} fields, "
                f"found {len(row)}."
            )
        labels.append(row[label_at].strip())
        for j, i in enumerate(features):
            try:
                x[line - 2, j] = float(row[i])
            except ValueError:
                raise ValueError(
                    f"data file {str(path)!r}, line {line}, column {header[i]!r}: "
                    f"expected a number, found {row[i]!r}."
                ) from None
    if all(s.lstrip("-").isdigit() for s in labels):
        return x, np.array([int(s) for s in labels]), None
    names = sorted(set(labels))
    index = {name: k for k, name in enumerate(names)}
    return x, np.array([index[s] for s in labels]), tuple(names)


def _validated(
    path: Path, x: np.ndarray, y: np.ndarray, class_names: tuple[str, ...] | None
) -> Dataset:
    where = f"data file {str(path)!r}"
    if not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"{where}: expected numeric 'x', found dtype {x.dtype}.")
    if x.ndim not in (2, 3, 4):
        raise ValueError(
            f"{where}: expected 'x' of shape (n, d), (n, h, w) or (n, h, w, c), found {x.shape}."
        )
    if y.ndim != 1:
        raise ValueError(f"{where}: expected 'y' of shape (n,), found {y.shape}.")
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"{where}: 'x' and 'y' have mismatched lengths: {x.shape[0]} examples in 'x', "
            f"{y.shape[0]} labels in 'y'."
        )
    if x.shape[0] == 0:
        raise ValueError(f"{where}: expected at least one example, found 0.")
    bad = ~np.isfinite(x.reshape(x.shape[0], -1)).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise ValueError(
            f"{where}: expected finite features, found NaN or Inf in {rows.size} examples "
            f"(first at index {rows[0]})."
        )
    if not np.issubdtype(y.dtype, np.number) or not np.all(np.mod(y, 1) == 0):
        raise ValueError(f"{where}: expected integer labels in 'y', found {y.dtype} {y[:5]}...")
    if y.min() < 0:
        raise ValueError(f"{where}: expected labels >= 0, found {int(y.min())}.")
    y = y.astype(np.int32)
    if class_names is None:
        class_names = tuple(str(k) for k in range(int(y.max()) + 1))
    if x.ndim == 3:
        x = x[..., None]
    return Dataset(x.astype(np.float32), y, class_names, str(path))
