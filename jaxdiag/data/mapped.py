"""Inputs read from the file through a memory map, a block of rows at a time.

An uncompressed ``.npz`` (``np.savez``) stores each array as a ``.npy`` verbatim, so its
``x`` can be mapped rather than read: only the rows a split takes are copied into memory, a
block at a time, and each block's pages are handed back to the kernel once copied, so the
file never counts in the process's resident memory as a whole.
"""

import mmap
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from jaxdiag.data.aligned import empty_aligned

BLOCK_ROWS = 16_384  # rows read, checked or gathered at a time
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, then the name and extra field lengths
_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0,
                   (2, 0): np.lib.format.read_array_header_2_0}


def mapped_member(path: Path, name: str) -> np.ndarray | None:
    """Array ``name`` (``name.npy`` in the archive at ``path``), read-only and memory-mapped;
    None when it is not worth or not possible to map (compressed or encrypted, objects,
    empty, Fortran order, or a ``.npy`` format version other than 1.0 and 2.0): then read it
    as usual."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(f"{name}.npy")
    if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
        return None
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        signature, name_length, extra_length = _LOCAL_HEADER.unpack(f.read(_LOCAL_HEADER.size))
        if signature != b"PK\x03\x04":
            return None
        f.seek(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
        reader = _HEADER_READERS.get(np.lib.format.read_magic(f))
        if reader is None:
            return None
        shape, fortran_order, dtype = reader(f)
        offset = f.tell()
    if dtype.hasobject or 0 in shape or fortran_order:
        return None
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape)


def row_blocks(x: np.ndarray, rows: int = BLOCK_ROWS) -> Iterator[np.ndarray]:
    """Consecutive blocks of at most ``rows`` rows of ``x``; for a mapped ``x``, each block's
    pages are released after the consumer is done with it."""
    for start in range(0, len(x), rows):
        yield x[start:start + rows]
        release(x)


def as_float32(x: np.ndarray) -> np.ndarray:
    """``x`` as float32: itself when it is float32 already (mapped or not), else converted (a
    mapped ``x`` a block at a time, into memory)."""
    if x.dtype == np.float32 or _mapping(x) is None:
        return x.astype(np.float32, copy=False)
    out = empty_aligned(x.shape, np.float32)
    for start, block in zip(range(0, len(x), BLOCK_ROWS), row_blocks(x), strict=True):
        out[start:start + len(block)] = block
    return out


def take_rows(x: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """``x[indices]`` (int indices, shape (m,)) as a new array in memory, aligned for JAX's
    CPU backend (``empty_aligned``); a mapped ``x`` is read ``BLOCK_ROWS`` indices at a time
    (ascending indices read each page once), its pages released after each block."""
    out = empty_aligned((len(indices), *x.shape[1:]), x.dtype)
    if _mapping(x) is None:
        return np.take(x, indices, axis=0, out=out)
    for start in range(0, len(indices), BLOCK_ROWS):
        out[start:start + BLOCK_ROWS] = x[indices[start:start + BLOCK_ROWS]]
        release(x)
    return out


def release(x: np.ndarray) -> None:
    """Hands the pages of a mapped ``x``'s file back to the kernel (they are read again on the
    next access); nothing for arrays in memory or where ``madvise`` is missing."""
    mapping = _mapping(x)
    if mapping is not None and hasattr(mmap, "MADV_DONTNEED"):
        mapping.madvise(mmap.MADV_DONTNEED)


def _mapping(x: np.ndarray) -> mmap.mmap | None:
    """The memory map behind ``x`` (an ``np.memmap`` or a view of one), or None."""
    return getattr(x, "_mmap", None)
