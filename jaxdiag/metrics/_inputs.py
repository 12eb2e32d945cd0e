"""Checks and label encoding shared by the metric functions.

Checks run only when the inputs are concrete arrays; under ``jit`` or ``vmap`` the values are
tracers and the functions rely on the documented conventions instead (see README, "Metrics").
"""

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

ZERO_DIVISION = ("warn", "nan", 0, 1)


def is_concrete(*arrays) -> bool:
    """True when no argument is a tracer (so values can be read and checked)."""
    return not any(isinstance(a, jax.core.Tracer) for a in arrays)


def as_array(name: str, value, ndim: Sequence[int] = (1,), numeric: bool = False):
    """``value`` as an array (NumPy for non-numeric labels), with its rank checked; with
    ``numeric``, a real number dtype (bool included) is required too."""
    if value is None:
        raise ValueError(f"{name}: expected an array, found None")
    array = value if isinstance(value, jax.Array) else np.asarray(value)
    if array.dtype.kind == "S" or (array.dtype == object and array.size
                                   and isinstance(array.flat[0], bytes)):
        raise TypeError(f"{name}: labels represented as bytes are not supported (as in "
                        f"sklearn); decode them to str, or use integers")
    if not numeric and array.dtype == object and len(
            {isinstance(v, str) for v in array.ravel()}) > 1:
        raise TypeError(f"{name}: expected labels of one kind, found an object array mixing "
                        f"strings and numbers, which do not sort (as in sklearn)")
    if numeric and array.dtype == object:  # numbers in an object array, as sklearn takes
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: expected real numbers, found dtype object") from None
    if array.ndim not in ndim:
        raise ValueError(f"{name}: expected an array of rank {' or '.join(map(str, ndim))}, "
                         f"found shape {array.shape}")
    if numeric and not (np.issubdtype(array.dtype, np.integer) or array.dtype == bool
                        or np.issubdtype(array.dtype, np.floating)):
        raise ValueError(f"{name}: expected real numbers, found dtype {array.dtype}")
    return array


def device_float(name: str, array):
    """``array`` as a jnp float array of JAX's default float dtype (float32 unless x64 is
    on), refusing a concrete value that the narrowing turns into Inf (1e300 in float32)."""
    dtype = jnp.result_type(float)
    if isinstance(array, jax.Array) or not is_concrete(array):
        array = jnp.asarray(array)
        return array if jnp.issubdtype(array.dtype, jnp.floating) else array.astype(dtype)
    values = np.asarray(array)
    with np.errstate(over="ignore"):
        narrowed = values.astype(dtype if not np.issubdtype(values.dtype, np.floating)
                                 or values.dtype.itemsize > np.dtype(dtype).itemsize
                                 else values.dtype)
    overflow = np.isinf(narrowed) & np.isfinite(values)
    if overflow.any():
        index = np.argwhere(overflow)[0].tolist()
        raise ValueError(f"{name}: expected values that fit in {narrowed.dtype} (|x| <= "
                         f"{float(np.finfo(narrowed.dtype).max):.3g}), found "
                         f"{values[tuple(index)]:.3g} at index {index}; rescale them or turn "
                         "on jax_enable_x64")
    return jnp.asarray(narrowed)


def order_preserving(name: str, array):
    """Scores whose order and ties are kept exactly by the device dtype, and a way back to
    the input's own values.

    A concrete array wider than the device dtype (float64 in float32 mode) is narrowed when
    that keeps every order and tie, else replaced by its dense ranks 0, 1, ... (float64
    values 1e-9 apart, or past float32's range; ranking metrics read only the order).

    Returns:
      (jnp scores, ``restore`` or None): ``restore(device values) -> the input's own values``
      (NumPy, its dtype) for device scores or thresholds taken from them; None when the
      device scores are the input's own values.
    """
    dtype = np.dtype(jnp.result_type(float))
    if isinstance(array, jax.Array) or not is_concrete(array):
        return device_float(name, array), None
    values = np.asarray(array)
    if values.dtype.itemsize <= dtype.itemsize and np.issubdtype(values.dtype, np.floating):
        return jnp.asarray(values), None
    ordered = np.sort(values.ravel())
    with np.errstate(over="ignore"):
        narrowed = ordered.astype(dtype)
    if not np.isinf(narrowed[np.isfinite(ordered)]).any() and not (
            (np.diff(ordered) > 0) & (np.diff(narrowed) <= 0)).any():
        # the cast is monotone and keeps every distinct value distinct: equal device values
        # stand for one input value, the first of them in ``ordered``
        def restore_narrowed(device_values):
            return ordered[np.searchsorted(narrowed, np.asarray(device_values))]

        with np.errstate(over="ignore"):
            return jnp.asarray(values.astype(dtype)), restore_narrowed
    distinct, ranks = np.unique(values, return_inverse=True)
    if len(distinct) > 2**24:
        raise ValueError(f"{name}: {len(distinct)} distinct {values.dtype} scores that "
                         f"{dtype} cannot tell apart; turn on jax_enable_x64")

    def restore_ranks(device_values):
        return distinct[np.asarray(device_values).astype(np.int64)]

    return jnp.asarray(ranks.reshape(values.shape).astype(dtype)), restore_ranks


def check_length(n: int, **arrays) -> None:
    for name, array in arrays.items():
        if array is not None and array.shape[0] != n:
            raise ValueError(f"{name}: expected {n} rows (the length of y_true), "
                             f"found {array.shape[0]}")


def check_finite(name: str, array) -> None:
    if is_concrete(array):
        bad = ~np.isfinite(np.asarray(array))
        if bad.any():
            index = np.argwhere(bad)[0].tolist()
            raise ValueError(f"{name}: expected finite values, found "
                             f"{np.asarray(array)[tuple(index)]} at index {index}")


def sample_weights(sample_weight, n: int):
    """Checked float weights of shape (n,), or None."""
    if sample_weight is None:
        return None
    weight = as_array("sample_weight", sample_weight, numeric=True)
    check_length(n, sample_weight=weight)
    check_finite("sample_weight", weight)
    if is_concrete(weight):
        if (np.asarray(weight) < 0).any():
            raise ValueError(f"sample_weight: expected non-negative weights, found "
                             f"{np.asarray(weight).min()}")
        if n and not np.asarray(weight).any():
            raise ValueError("sample_weight: expected at least one positive weight, found all 0")
    return device_float("sample_weight", weight).astype(jnp.result_type(float))


def scored_inputs(y_true, y_score, sample_weight, score_name: str = "y_score"):
    """Checked ``(y_true, scores as a jnp array (n,) or (n, C), weights or None)``."""
    y_score = as_array(score_name, y_score, ndim=(1, 2), numeric=True)
    y_true = as_array("y_true", y_true)
    check_length(y_true.shape[0], **{score_name: y_score})
    check_finite(score_name, y_score)
    return (y_true, device_float(score_name, y_score),
            sample_weights(sample_weight, y_true.shape[0]))


def zero_division_value(zero_division) -> float:
    """scikit-learn's ``zero_division``: "warn" acts as 0 (without a warning), "nan" as NaN."""
    if isinstance(zero_division, str):
        if zero_division == "warn":
            return 0.0
        if zero_division == "nan":
            return float("nan")
    elif zero_division in (0, 1) or np.isnan(zero_division):
        return float(zero_division)
    raise ValueError(f"zero_division: expected one of 'warn', 0, 1, 'nan' or np.nan, "
                     f"found {zero_division!r}")


def is_multilabel(y) -> bool:
    return y.ndim == 2 and y.shape[1] > 1


def present_labels(*arrays) -> np.ndarray:
    """Sorted distinct values of concrete label arrays."""
    return np.unique(np.concatenate([np.asarray(a).ravel() for a in arrays]))


def _numeric(array) -> bool:
    return not is_concrete(array) or np.issubdtype(np.asarray(array).dtype, np.number) or \
        np.asarray(array).dtype == bool


def _on_device(*arrays) -> bool:
    """Whether labels can be compared on the device as they are: tracers and JAX arrays
    (already narrowed by the user); NumPy labels are compared on the host, so that 2**32
    and 0 stay distinct although int32 would wrap them together."""
    return all(isinstance(a, jax.Array | jax.core.Tracer) for a in arrays)


def equal(a, b) -> jax.Array:
    """Elementwise ``a == b`` as a jnp bool array; concrete host labels (NumPy, lists,
    strings, 64-bit integers) are compared on the host at their own width."""
    if _on_device(a, b):
        return jnp.asarray(a) == jnp.asarray(b)
    return jnp.asarray(np.asarray(a) == np.asarray(b))


def encode(y, labels: np.ndarray):
    """Index of each value of ``y`` in ``labels`` (any order), -1 where absent.

    Works on concrete arrays (NumPy, also for string labels) and on tracers (jnp).
    """
    labels = np.asarray(labels)
    xp = jnp if _on_device(y) and _numeric(labels) else np
    if xp is np:
        y = np.asarray(y)
    order = np.argsort(labels, kind="stable")
    ordered = labels[order]
    position = xp.clip(xp.searchsorted(ordered, y), 0, len(labels) - 1)
    found = xp.asarray(ordered)[position] == y
    return xp.where(found, xp.asarray(order)[position], -1)


def column_labels(labels, num_columns: int) -> np.ndarray:
    """Given ``labels`` of score columns, checked as sklearn checks them: unique, increasing
    and one per column."""
    labels = np.asarray(labels)
    classes = np.unique(labels)
    if len(classes) != len(labels):
        raise ValueError(f"labels: expected unique labels, found {labels[:10].tolist()}")
    if not np.array_equal(classes, labels):
        raise ValueError(f"labels: expected them in increasing order (the order of the score "
                         f"columns), found {labels[:10].tolist()}")
    if len(labels) != num_columns:
        raise ValueError(f"labels: expected {num_columns} labels (one per score column), "
                         f"found {len(labels)}")
    return labels


def column_index(y_true, labels: np.ndarray) -> jax.Array:
    """The score column of each label of ``y_true``: its index in ``labels``; a concrete label
    that is not among them is an error."""
    index = encode(y_true, labels)
    if is_concrete(index) and (np.asarray(index) < 0).any():
        raise ValueError(f"y_true: expected labels among labels={labels[:10].tolist()}, found "
                         f"{np.asarray(y_true)[np.asarray(index) < 0][0]!r}")
    return jnp.asarray(index)


def binary_target(name: str, y_true, pos_label, present_pos_label: bool = False):
    """``y_true == pos_label`` as a bool array; checks there are at most two classes, and
    with ``present_pos_label`` that a given ``pos_label`` is one of two present ones."""
    if is_concrete(y_true):
        present = present_labels(y_true)
        if len(present) > 2:
            raise ValueError(f"{name}: expected binary labels, found {len(present)} classes "
                             f"{present[:10].tolist()}")
        if present_pos_label and len(present) == 2 and pos_label not in present.tolist():
            raise ValueError(f"pos_label: expected one of the labels {present.tolist()}, "
                             f"found {pos_label!r}")
        if pos_label is None:
            if not (set(present.tolist()) <= {0, 1} or set(present.tolist()) <= {-1, 1}):
                raise ValueError(f"pos_label: expected a value when {name} is not in {{0, 1}} "
                                 f"or {{-1, 1}}, found labels {present.tolist()}")
        y_true = np.asarray(y_true)
    return (y_true == (1 if pos_label is None else pos_label))
