import numpy as np
import pytest

from jaxdiag.data import read_dev_tags


def test_dev_tags_from_a_csv(tmp_path):
    path = tmp_path / "tags.csv"
    path.write_text("index,tag\n3,blurry\n5, blurry\n5,mislabelled\n\n")
    tags = read_dev_tags(str(path), 8)
    assert sorted(tags) == ["blurry", "mislabelled"]
    assert np.flatnonzero(tags["blurry"]).tolist() == [3, 5]
    assert np.flatnonzero(tags["mislabelled"]).tolist() == [5]
    assert read_dev_tags("", 8) == {}


@pytest.mark.parametrize("text, problem", [
    ("idx,tag\n1,a\n", "header 'index,tag'"),
    ("index,tag\n8,a\n", r"line 2 .*dev index in \[0, 8\)"),
    ("index,tag\n-1,a\n", "line 2"),
    ("index,tag\n1,\n", "line 2"),
])
def test_bad_tag_files_name_the_key_and_the_line(tmp_path, text, problem):
    path = tmp_path / "tags.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=r"diagnose\.tags_file") as error:
        read_dev_tags(str(path), 8)
    assert error.match(problem)
    with pytest.raises(ValueError, match="no such file"):
        read_dev_tags(str(tmp_path / "absent.csv"), 8)
