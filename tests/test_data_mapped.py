"""Memory-mapped inputs: an uncompressed .npz's x is mapped, its splits are those of the
array in memory, the file is never written, and scanning it keeps its pages out of the
process's resident memory."""

import hashlib
import zipfile

import numpy as np
import pytest

from jaxdiag.data import load_file, make_splits
from jaxdiag.data.dataset import Dataset
from jaxdiag.data.mapped import BLOCK_ROWS, as_float32, mapped_member, row_blocks, take_rows


def _data(n=3000, d=12, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)).astype(dtype), rng.integers(0, 3, n).astype(np.int64)


def _mapping_rss_kib(path) -> int:
    """Resident KiB of this process's mappings of ``path`` (/proc/self/smaps)."""
    total, inside = 0, False
    for line in open("/proc/self/smaps"):
        fields = line.split()
        if "-" in fields[0] and len(fields) >= 5:  # a mapping's header line
            inside = len(fields) >= 6 and fields[5] == str(path)
        elif inside and fields[0] == "Rss:":
            total += int(fields[1])
    return total


def test_an_uncompressed_file_is_mapped_and_splits_as_in_memory(tmp_path):
    x, y = _data()
    np.savez(tmp_path / "plain.npz", x=x, y=y)
    np.savez_compressed(tmp_path / "packed.npz", x=x, y=y)
    before = hashlib.sha256((tmp_path / "plain.npz").read_bytes()).hexdigest()
    mapped, packed = load_file(tmp_path / "plain.npz"), load_file(tmp_path / "packed.npz")
    assert isinstance(mapped.x, np.memmap) and not mapped.x.flags.writeable
    assert not isinstance(packed.x, np.memmap)  # compressed: read into memory
    np.testing.assert_array_equal(mapped.x, x)
    in_memory = Dataset(x.copy(), y.astype(np.int32), mapped.class_names, "memory")
    for a, b in zip(make_splits(mapped, None, seed=3).values(),
                    make_splits(in_memory, None, seed=3).values(), strict=True):
        assert not isinstance(a.data.x, np.memmap)  # each split in memory, taken once
        np.testing.assert_array_equal(a.data.x, b.data.x)
        np.testing.assert_array_equal(a.data.y, b.data.y)
    with pytest.raises(ValueError, match="read-only"):  # the user's file cannot be written
        mapped.x[0, 0] = 1.0
    assert hashlib.sha256((tmp_path / "plain.npz").read_bytes()).hexdigest() == before


def test_take_rows_and_float32_conversion_in_blocks(tmp_path):
    n = 2 * BLOCK_ROWS + 5  # three blocks, the last one short
    x, y = _data(n=n, d=3, dtype=np.float64)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    mapped = mapped_member(tmp_path / "d.npz", "x")
    assert isinstance(mapped, np.memmap) and mapped.dtype == np.float64
    indices = np.sort(np.random.default_rng(1).choice(n, n // 2, replace=False))
    np.testing.assert_array_equal(take_rows(mapped, indices), x[indices])
    np.testing.assert_array_equal(take_rows(x, indices[::-1]), x[indices[::-1]])
    converted = as_float32(mapped)
    assert converted.dtype == np.float32 and not isinstance(converted, np.memmap)
    np.testing.assert_array_equal(converted, x.astype(np.float32))
    loaded = load_file(tmp_path / "d.npz")  # float64 in the file: float32 in memory
    np.testing.assert_array_equal(loaded.x, x.astype(np.float32))


def test_scanning_a_mapped_file_releases_its_pages(tmp_path):
    x = np.ones((8 * BLOCK_ROWS, 64), np.float32)  # 32 MiB, blocks of 4 MiB
    np.savez(tmp_path / "big.npz", x=x, y=np.zeros(len(x), np.int64))
    del x
    path = (tmp_path / "big.npz").resolve()
    mapped = mapped_member(path, "x")
    assert all(np.isfinite(block).all() for block in row_blocks(mapped))
    released = _mapping_rss_kib(path)
    assert sum(float(mapped[i:i + BLOCK_ROWS].sum()) for i in range(0, len(mapped), BLOCK_ROWS)
               ) == mapped.size  # the same scan, pages kept
    kept = _mapping_rss_kib(path)
    assert kept > 30 * 1024  # the control: a plain scan holds the whole file
    assert released < 5 * 1024  # at most one block's pages


@pytest.mark.parametrize("case", ["compressed", "object", "fortran", "empty"])
def test_what_is_not_mapped_is_read(tmp_path, case):
    x, y = _data(n=10)
    path = tmp_path / "d.npz"
    if case == "compressed":
        np.savez_compressed(path, x=x, y=y)
    elif case == "object":
        np.savez(path, x=np.array([[1], [2]], dtype=object), y=y[:2])
    else:
        np.savez(path, x=np.asfortranarray(x) if case == "fortran" else x[:0], y=y)
    assert mapped_member(path, "x") is None


def test_a_truncated_file_is_refused_by_name(tmp_path):
    x, y = _data(n=5000)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    data = (tmp_path / "d.npz").read_bytes()
    with zipfile.ZipFile(tmp_path / "d.npz") as archive:
        info = archive.getinfo("x.npy")
    (tmp_path / "cut.npz").write_bytes(data[:info.header_offset + 4096])
    with pytest.raises(ValueError, match=r"cut\.npz.*not a readable \.npz file"):
        load_file(tmp_path / "cut.npz")
