import numpy as np
import pytest

from jaxdiag.data import Dataset, DomainShift, load_digits, make_splits


def _indexed(n=100, classes=3):
    """Examples whose only feature is their index, so splits can be traced back."""
    x = np.arange(n, dtype=np.float32)[:, None]
    return Dataset(x, (np.arange(n) % classes).astype(np.int32),
                   tuple(str(c) for c in range(classes)), "indexed")


def _indices(split):
    return split.data.x[:, 0].astype(int)


def test_held_out_source_splits_partition_the_data():
    splits = make_splits(_indexed(), None, target_fraction=0.4, train_dev_fraction=0.25, seed=1)
    assert list(splits) == ["train", "train_dev", "dev", "test"]
    sizes = {k: len(s.data) for k, s in splits.items()}
    assert sizes == {"train": 45, "train_dev": 15, "dev": 20, "test": 20}
    all_indices = np.concatenate([_indices(s) for s in splits.values()])
    np.testing.assert_array_equal(np.sort(all_indices), np.arange(100))
    assert {s.domain for s in splits.values()} == {"source"}
    for split in splits.values():
        np.testing.assert_array_equal(split.data.y, _indices(split) % 3)


def test_synthetic_shift_scores_the_same_test_examples_in_both_domains():
    digits = load_digits()
    splits = make_splits(digits, DomainShift(), seed=0)
    assert list(splits) == ["train", "train_dev", "dev", "test", "test_source"]
    assert [splits[k].domain for k in splits] == ["source", "source", "target", "target", "source"]
    assert sum(len(splits[k].data) for k in ("train", "train_dev", "dev", "test")) == 1797
    np.testing.assert_array_equal(splits["test"].data.y, splits["test_source"].data.y)
    assert not np.allclose(splits["test"].data.x, splits["test_source"].data.x)
    again = make_splits(digits, DomainShift(), seed=0)
    for name in splits:
        np.testing.assert_array_equal(splits[name].data.x, again[name].data.x)
    other = make_splits(digits, DomainShift(), seed=1)
    assert not np.array_equal(splits["train"].data.y, other["train"].data.y)


def test_a_target_file_is_halved_into_dev_and_test():
    source, target = _indexed(50), _indexed(10, classes=4)
    splits = make_splits(source, target, train_dev_fraction=0.2, seed=0)
    assert [len(splits[k].data) for k in splits] == [40, 10, 5, 5]
    assert splits["dev"].domain == "target" and splits["train"].domain == "source"
    assert splits["train"].data.num_classes == 4  # the larger class list wins


def test_split_errors():
    with pytest.raises(ValueError, match="target_fraction: expected a value in"):
        make_splits(_indexed(), None, target_fraction=1.0)
    with pytest.raises(ValueError, match=r"train_dev_fraction: 0\.005 of 60 examples"):
        make_splits(_indexed(), None, train_dev_fraction=0.005)
    wide = Dataset(np.zeros((10, 2), np.float32), np.zeros(10, np.int32), ("0",), "wide")
    with pytest.raises(ValueError, match=r"inputs of shape \(1,\).*found \(2,\)"):
        make_splits(_indexed(), wide)
    renamed = Dataset(np.zeros((10, 1), np.float32), np.zeros(10, np.int32), ("a",), "renamed")
    with pytest.raises(ValueError, match="expected the classes of the source"):
        make_splits(_indexed(), renamed)


def test_an_unlabelled_target_split_is_disjoint_and_leaves_the_others_alone():
    digits = load_digits()
    plain = make_splits(digits, DomainShift(), seed=0)
    splits = make_splits(digits, DomainShift(), unlabelled_target_fraction=0.25, seed=0)
    assert list(splits) == [*plain, "target_unlabelled"]
    for name in ("train_dev", "dev", "test", "test_source"):  # as without it
        np.testing.assert_array_equal(splits[name].data.x, plain[name].data.x)
    unlabelled = splits["target_unlabelled"]
    assert unlabelled.domain == "target" and "(shifted)" in unlabelled.data.origin
    assert len(unlabelled.data) == round(0.25 * len(plain["train"].data))
    assert len(splits["train"].data) == len(plain["train"].data) - len(unlabelled.data)
    # disjoint: no unlabelled input is a shifted copy of a train example (rows compared by the
    # source images they came from: every digit image of the 1,797 is distinct)
    source_rows = {x.tobytes(): i for i, x in enumerate(digits.x)}
    train_rows = {source_rows[x.tobytes()] for x in splits["train"].data.x}
    shifted = make_splits(digits, DomainShift(0, 1, 0), unlabelled_target_fraction=0.25, seed=0)
    unlabelled_rows = {source_rows[x.tobytes()] for x in shifted["target_unlabelled"].data.x}
    assert len(unlabelled_rows) == len(unlabelled.data) and not unlabelled_rows & train_rows
    # a target file gives its own examples, before the dev / test halving
    source, target = _indexed(50), _indexed(20, classes=4)
    split = make_splits(source, target, train_dev_fraction=0.2, unlabelled_target_fraction=0.5,
                        seed=0)
    assert [len(split[k].data) for k in split] == [40, 10, 5, 5, 10]
    with pytest.raises(ValueError, match="unlabelled_target_fraction: expected a target"):
        make_splits(source, None, unlabelled_target_fraction=0.2)
    with pytest.raises(ValueError, match=r"unlabelled_target_fraction: expected a value in \[0"):
        make_splits(source, target, unlabelled_target_fraction=1.0)
