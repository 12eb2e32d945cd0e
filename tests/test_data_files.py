import numpy as np
import pytest

from jaxdiag.data import load_file


def _write_csv(path, text):
    path.write_text(text)
    return path


def test_npz_round_trip_adds_a_channel_to_images(tmp_path):
    x = np.arange(2 * 3 * 4, dtype=np.float64).reshape(2, 3, 4)
    np.savez(tmp_path / "d.npz", x=x, y=np.array([1, 0]))
    data = load_file(tmp_path / "d.npz")
    assert data.x.shape == (2, 3, 4, 1) and data.x.dtype == np.float32
    np.testing.assert_array_equal(data.x[..., 0], x)
    np.testing.assert_array_equal(data.y, [1, 0])
    assert data.class_names == ("0", "1")


def test_csv_with_integer_and_string_labels(tmp_path):
    data = load_file(_write_csv(tmp_path / "a.csv", "f1,label,f2\n1.5,2,3\n4,0,-1\n"))
    np.testing.assert_array_equal(data.x, [[1.5, 3], [4, -1]])
    np.testing.assert_array_equal(data.y, [2, 0])
    assert data.num_classes == 3
    data = load_file(_write_csv(tmp_path / "b.csv", "cls,a\ncat,1\ndog,2\ncat,3\n"), "cls")
    assert data.class_names == ("cat", "dog")
    np.testing.assert_array_equal(data.y, [0, 1, 0])


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"x": np.zeros((3, 2))}, r"missing \['y'\]"),
        ({"x": np.zeros((3, 2)), "y": np.zeros(4, int)}, "mismatched lengths: 3 .* 4"),
        ({"x": np.array([[0.0, np.nan], [1, 2]]), "y": np.zeros(2, int)},
         "NaN or Inf in 1 examples .first at index 0"),
        ({"x": np.array([[0.0, 1], [1, np.inf]]), "y": np.zeros(2, int)}, "first at index 1"),
        ({"x": np.zeros((2, 2)), "y": np.array([0.5, 1])}, "integer labels"),
        ({"x": np.zeros((2, 2)), "y": np.array([-1, 1])},
         "class indices in \\[0, 2\\*\\*31\\) in .y., found -1"),
        ({"x": np.zeros((2, 2)), "y": np.zeros((2, 1), int)}, r"'y' of shape \(n,\)"),
        ({"x": np.zeros(2), "y": np.zeros(2, int)}, "'x' of shape"),
        ({"x": np.zeros((0, 2)), "y": np.zeros(0, int)}, "at least one example"),
        # values checked before they are narrowed to 32 bits (issue 24)
        ({"x": np.array([[0.0, 1e300], [1, 2]]), "y": np.zeros(2, int)},
         "within float32's range .* found 1e\\+300 in example 0"),
        ({"x": np.zeros((2, 2)), "y": np.array([2**32, 1])}, "found 4294967296"),
        ({"x": np.zeros((2, 2)), "y": np.array([1e20, 1])}, "found 100000000000000000000"),
        ({"x": np.zeros((2, 2), complex), "y": np.zeros(2, int)},
         "expected real numeric 'x', found dtype complex128"),
        ({"x": np.zeros((2, 2)), "y": np.array([0, 10**6])},
         "2 distinct labels up to 1000000, .* map them to 0 .. 1 first"),
    ],
)
def test_bad_npz_files_name_the_file_and_the_problem(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=message) as info:
        load_file(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("a,b\n1,2\n", r"label column 'label', found columns \['a', 'b'\]"),
        ("a,label\n1,2\nx,1\n", "line 3, column 'a': expected a number, found 'x'"),
        ("a,label\n1,2,3\n", "line 2: expected 2 fields, found 3"),
        ("a,label\nnan,1\n", "NaN or Inf"),
        ("a,label\n1,2\n2, \n", "line 3, column 'label': expected a label, found an empty"),
        ("a,label\n1,4294967296\n", "line 2, column 'label': expected a class index in"),
        ("a,label\n1,99999999999999999999999\n", "expected a class index in \\[0, 2\\*\\*31\\)"),
    ],
)
def test_bad_csv_files_name_the_file_and_the_problem(tmp_path, text, message):
    path = _write_csv(tmp_path / "bad.csv", text)
    with pytest.raises(ValueError, match=message) as info:
        load_file(path)
    assert str(path) in str(info.value)


def test_missing_unknown_and_corrupt_files(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        load_file(tmp_path / "absent.npz")
    (tmp_path / "d.txt").write_text("1")
    with pytest.raises(ValueError, match=r"suffix in \('.npz', '.csv'\), found '.txt'"):
        load_file(tmp_path / "d.txt")
    (tmp_path / "d.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"not a readable \.npz"):
        load_file(tmp_path / "d.npz")


def test_labels_that_leave_classes_empty_are_said_and_kept(tmp_path):
    path = tmp_path / "gaps.npz"
    np.savez(path, x=np.zeros((3, 2)), y=np.array([0, 5, 10]))
    with pytest.warns(UserWarning, match=r"3 distinct values in \[0, 10\], so 8 of the 11 "
                      r"classes have no example \(1, 2, 3, 4, 6, 7, 8, 9\)"):
        data = load_file(path)
    assert data.num_classes == 11
    np.testing.assert_array_equal(data.y, [0, 5, 10])
