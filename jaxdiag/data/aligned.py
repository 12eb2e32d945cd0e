"""Host arrays that JAX's CPU backend uses in place: ``jax.device_put(x, may_alias=True)``
aliases an array whose data start on a 64-byte boundary and copies any other (NumPy's own
allocations are aligned to 16 bytes), so the data sets are allocated aligned."""

import numpy as np

ALIGNMENT = 64  # bytes: XLA's CPU buffers


def empty_aligned(shape: tuple[int, ...], dtype: np.typing.DTypeLike) -> np.ndarray:
    """An uninitialized C-ordered array of ``shape`` and ``dtype`` whose data start on an
    ``ALIGNMENT``-byte boundary (an empty one has no data to align)."""
    dtype = np.dtype(dtype)
    size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw = np.empty(size + ALIGNMENT, np.uint8)
    start = -raw.ctypes.data % ALIGNMENT
    return raw[start:start + size].view(dtype).reshape(shape)
