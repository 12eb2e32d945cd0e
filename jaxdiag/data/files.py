"""User data from ``.npz`` (arrays ``x`` and ``y``) and ``.csv`` (a named label column)."""

import csv
import warnings
from pathlib import Path

import numpy as np

from jaxdiag.data.dataset import Dataset
from jaxdiag.data.mapped import as_float32, mapped_member, row_blocks

SUPPORTED_SUFFIXES = (".npz", ".csv")
LABEL_LIMIT = 2**31  # labels are int32 class indices
FLOAT32_MAX = float(np.finfo(np.float32).max)


def load_file(path: str | Path, label_column: str = "label") -> Dataset:
    """Loads and validates a labelled data file.

    Args:
      path: a ``.npz`` holding ``x`` (shape (n, d), (n, h, w) or (n, h, w, c)) and ``y``
        (shape (n,), non-negative integers); or a ``.csv`` with a header row, one numeric
        column per feature and the label column named ``label_column`` (integers, or any
        strings, which become classes in sorted order).
      label_column: name of the CSV label column; unused for ``.npz``.

    Returns:
      Dataset with x float32 ((n, h, w) gains a channel axis) and y int32. The ``x`` of an
      uncompressed ``.npz`` (``np.savez``) stays in the file, memory-mapped read-only: the
      splits read their rows from it a block at a time (``jaxdiag.data.mapped``).

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
    """x (memory-mapped from an uncompressed file: ``mapped_member``) and y."""
    x = y = None
    try:
        with np.load(path, allow_pickle=False) as archive:
            found = sorted(archive.files)
            if "x" in found and "y" in found:
                y, x = archive["y"], mapped_member(path, "x")
                if x is None:
                    x = archive["x"]
    except Exception as e:  # zip, pickle and format errors of a corrupt or foreign file
        raise ValueError(f"data file {str(path)!r}: not a readable .npz file ({e}).") from e
    if x is None:
        missing = [k for k in ("x", "y") if k not in found]
        raise ValueError(f"data file {str(path)!r}: expected arrays 'x' and 'y', missing "
                         f"{missing}, found {found}.")
    return x, y, None


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
        label = row[label_at].strip()
        if not label:
            raise ValueError(f"data file {str(path)!r}, line {line}, column {label_column!r}: "
                             "expected a label, found an empty field.")
        labels.append(label)
        for j, i in enumerate(features):
            try:
                x[line - 2, j] = float(row[i])
            except ValueError:
                raise ValueError(
                    f"data file {str(path)!r}, line {line}, column {header[i]!r}: "
                    f"expected a number, found {row[i]!r}."
                ) from None
    if all(s.lstrip("-").isdigit() for s in labels):
        numbers = [int(s) for s in labels]
        out = next((i for i, v in enumerate(numbers) if not 0 <= v < LABEL_LIMIT), None)
        if out is not None:
            raise ValueError(f"data file {str(path)!r}, line {out + 2}, column "
                             f"{label_column!r}: expected a class index in [0, 2**31), found "
                             f"{labels[out]}.")
        return x, np.array(numbers, np.int64), None
    names = sorted(set(labels))
    index = {name: k for k, name in enumerate(names)}
    return x, np.array([index[s] for s in labels]), tuple(names)


def _validated(
    path: Path, x: np.ndarray, y: np.ndarray, class_names: tuple[str, ...] | None
) -> Dataset:
    where = f"data file {str(path)!r}"
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise ValueError(f"{where}: expected real numeric 'x', found dtype {x.dtype}.")
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
    flat = x.reshape(x.shape[0], -1)
    bad = np.concatenate([~np.isfinite(block).all(axis=1)  # small temporaries
                          for block in row_blocks(flat)])
    if bad.any():
        rows = np.flatnonzero(bad)
        raise ValueError(
            f"{where}: expected finite features, found NaN or Inf in {rows.size} examples "
            f"(first at index {rows[0]})."
        )
    if np.issubdtype(x.dtype, np.floating) and x.dtype.itemsize > 4:  # 64-bit integers fit
        largest = np.concatenate([np.abs(block).max(axis=1) for block in row_blocks(flat)])
        if largest.max() > FLOAT32_MAX:  # checked before the cast to float32
            row = int(np.argmax(largest > FLOAT32_MAX))
            value = flat[row][np.argmax(np.abs(flat[row]) > FLOAT32_MAX)]
            raise ValueError(f"{where}: expected features within float32's range (|x| <= "
                             f"{FLOAT32_MAX:.3g}), found {value:.3g} in example "
                             f"{row}; rescale them.")
    if not np.issubdtype(y.dtype, np.number) or np.issubdtype(y.dtype, np.complexfloating) \
            or not np.all(np.mod(y, 1) == 0):
        raise ValueError(f"{where}: expected integer labels in 'y', found {y.dtype} {y[:5]}...")
    if y.min() < 0 or y.max() >= LABEL_LIMIT:  # checked before the cast to int32
        found = y.min() if y.min() < 0 else y.max()
        raise ValueError(f"{where}: expected class indices in [0, 2**31) in 'y', found "
                         f"{found:.0f}.")
    y = y.astype(np.int32)
    if class_names is None:
        class_names = _index_class_names(where, y)
    if x.ndim == 3:
        x = x[..., None]
    return Dataset(as_float32(x), y, class_names, str(path))  # read (or mapped) here: ours


def _index_class_names(where: str, y: np.ndarray) -> tuple[str, ...]:
    """Names "0" .. "C-1" for integer labels, C = max + 1; warns when some of those classes
    have no example, and refuses labels that are ids rather than class indices.

    Raises:
      ValueError: more than 1,000 classes, at least ten times as many as distinct labels.
    """
    num_classes = int(y.max()) + 1
    present = np.unique(y)
    empty = num_classes - len(present)
    if num_classes > max(1000, 10 * len(present)):
        raise ValueError(f"{where}: expected labels that are class indices 0 .. C-1, found "
                         f"{len(present)} distinct labels up to {num_classes - 1}, which would "
                         f"make {num_classes} classes, {empty} of them empty; map them to 0 .. "
                         f"{len(present) - 1} first (np.unique(y, return_inverse=True)).")
    if empty:
        missing = np.setdiff1d(np.arange(num_classes), present)
        warnings.warn(f"{where}: labels take {len(present)} distinct values in [0, "
                      f"{num_classes - 1}], so {empty} of the {num_classes} classes have no "
                      f"example ({', '.join(map(str, missing[:8]))}"
                      f"{' ...' if empty > 8 else ''}); the model still has {num_classes} "
                      "outputs.", stacklevel=4)
    return tuple(str(k) for k in range(num_classes))
