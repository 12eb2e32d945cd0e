"""An ``.npz`` written a block of rows at a time: no member is ever whole in memory, and no
copy of the archive is built before it is written."""

import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np

from jaxdiag.experiment.run_folder import atomic_target


class RowBlocks(NamedTuple):
    """An array given as consecutive blocks of rows.

    Attributes:
      shape: the whole array's shape (rows first).
      dtype: its dtype; each block is cast to it.
      blocks: arrays of shape (rows_i, *shape[1:]) whose rows add up to ``shape[0]``.
    """

    shape: tuple[int, ...]
    dtype: np.dtype
    blocks: Iterable[np.ndarray]


def write_npz_atomic(path: Path, members: Mapping[str, np.typing.ArrayLike | RowBlocks]) -> None:
    """Writes ``members`` ({name: array or RowBlocks}) as an uncompressed ``.npz`` at ``path``,
    which ``np.load`` reads like one of ``np.savez``: each block is written as it comes,
    through a temporary file renamed into place once complete (``atomic_target``).

    Raises:
      ValueError: blocks whose rows do not add up to their shape, naming the member.
    """
    with atomic_target(path) as temporary, zipfile.ZipFile(
            temporary, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, member in members.items():
            if not isinstance(member, RowBlocks):
                member = np.asarray(member)
                member = RowBlocks(member.shape, member.dtype, [member])
            _write_member(archive, name, member)


def _write_member(archive: zipfile.ZipFile, name: str, member: RowBlocks) -> None:
    dtype, shape = np.dtype(member.dtype), tuple(member.shape)
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False,
              "shape": shape}
    rows = 0
    with archive.open(f"{name}.npy", "w", force_zip64=True) as f:
        np.lib.format.write_array_header_2_0(f, header)
        for block in member.blocks:
            block = np.ascontiguousarray(block, dtype)
            if block.shape[1:] != shape[1:]:
                raise ValueError(f"{name}: expected blocks of shape (rows, "
                                 f"{', '.join(map(str, shape[1:]))}), found {block.shape}.")
            f.write(block.reshape(-1).view(np.uint8))  # no copy of a contiguous block
            rows += len(block) if block.ndim else 1
    if rows != (shape[0] if shape else 1):
        raise ValueError(f"{name}: expected blocks of {shape[0]} rows in all, found {rows}.")
