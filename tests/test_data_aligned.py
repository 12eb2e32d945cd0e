"""Aligned host arrays: JAX's CPU backend takes them without a copy, which is what lets the
main job's data sets go to the device without a second copy in memory."""

import jax
import numpy as np
import pytest

from jaxdiag.data.aligned import ALIGNMENT, empty_aligned
from jaxdiag.data.mapped import take_rows


@pytest.mark.parametrize("shape, dtype", [((1000, 8), np.float32), ((3, 5, 7), np.int16),
                                          ((0, 4), np.float64), ((), np.uint8)])
def test_arrays_start_on_the_boundary(shape, dtype):
    for _ in range(4):  # NumPy's own allocations land on 16-byte boundaries
        a = empty_aligned(shape, dtype)
        assert a.shape == shape and a.dtype == dtype and a.flags.c_contiguous
        assert a.flags.writeable and (a.size == 0 or a.ctypes.data % ALIGNMENT == 0)


def test_the_cpu_backend_uses_them_in_place_and_copies_the_others():
    x = np.random.default_rng(0).random((10_000, 8), np.float32)
    mine = take_rows(x, np.arange(0, 10_000, 2))
    np.testing.assert_array_equal(mine, x[::2])
    cpu = jax.devices("cpu")[0]
    on_device = jax.device_put(mine, cpu, may_alias=True)
    assert on_device.unsafe_buffer_pointer() == mine.ctypes.data  # no copy
    misaligned = np.empty(8 * 10_000 + 1, np.float32)[1:].reshape(10_000, 8)
    assert jax.device_put(misaligned, cpu, may_alias=True).unsafe_buffer_pointer() != \
        misaligned.ctypes.data  # the copy an unaligned array costs
