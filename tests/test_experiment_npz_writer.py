"""The block-by-block .npz writer: np.load reads what np.savez would have written, and a
failed write leaves the file that was there as it was."""

import numpy as np
import pytest

from jaxdiag.data.mapped import mapped_member
from jaxdiag.experiment.npz_writer import RowBlocks, write_npz_atomic


def test_blocks_read_back_as_np_savez_writes_them(tmp_path):
    rng = np.random.default_rng(0)
    probabilities = rng.random((1000, 7), np.float32)
    labels = rng.integers(0, 7, 1000)
    scalar, empty = np.float64(2.5), np.zeros((0, 3), np.int16)
    path = tmp_path / "p.npz"
    write_npz_atomic(path, {
        "p": RowBlocks(probabilities.shape, np.float32,
                       (probabilities[i:i + 300] for i in range(0, 1000, 300))),
        "y": labels, "s": scalar, "e": empty})
    np.savez(tmp_path / "reference.npz", p=probabilities, y=labels, s=scalar, e=empty)
    with np.load(path) as ours, np.load(tmp_path / "reference.npz") as reference:
        assert ours.files == reference.files
        for name in reference.files:
            assert ours[name].dtype == reference[name].dtype
            np.testing.assert_array_equal(ours[name], reference[name])
    np.testing.assert_array_equal(mapped_member(path, "p"), probabilities)  # stored, mappable
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.npz", "reference.npz"]


def _failing_blocks():
    yield np.ones((5, 2), np.float32)
    raise RuntimeError("killed mid-write")


@pytest.mark.parametrize("blocks, error", [
    ([np.ones((5, 2))], "expected blocks of 10 rows in all, found 5"),
    ([np.ones((10, 3))], r"expected blocks of shape \(rows, 2\), found \(10, 3\)"),
    (_failing_blocks(), "killed mid-write"),
])
def test_a_failed_write_keeps_the_previous_file(tmp_path, blocks, error):
    path = tmp_path / "p.npz"
    np.savez(path, old=np.arange(3))
    before = path.read_bytes()
    with pytest.raises((ValueError, RuntimeError), match=error):
        write_npz_atomic(path, {"y": np.arange(10), "p": RowBlocks((10, 2), np.float32, blocks)})
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.npz"]  # no temporary left
