import numpy as np
import pytest

from jaxdiag.data import load_digits
from jaxdiag.experiment.multitask_config import TaskConfig, TaskDataConfig
from jaxdiag.experiment.task_data import task_labels, task_splits

TASKS = (TaskConfig("digit"), TaskConfig("loop", "binary", (0, 6, 8, 9)))


def test_labels_of_each_task():
    classes = np.array([9, 5, 7, 6])
    np.testing.assert_array_equal(task_labels(classes, (5, 6, 7, 8, 9), TASKS[0]), [4, 0, 2, 1])
    np.testing.assert_array_equal(task_labels(classes, (9, 5, 7, 6), TASKS[0]), [0, 1, 2, 3])
    np.testing.assert_array_equal(task_labels(classes, (5, 6, 7, 8, 9), TASKS[1]), [1, 0, 0, 1])


def test_splits_keep_classes_subsample_and_hide_labels():
    digits = load_digits()
    config = TaskDataConfig(classes=(5, 6, 7, 8, 9), labels_per_class=10, missing_fraction=0.5)
    splits, widths = task_splits(digits, config, TASKS, seed=1)
    assert widths == {"digit": 5, "loop": 1}
    x, labels = splits["train"]
    assert len(x) == 50 and np.bincount(labels["digit"][labels["digit"] >= 0]).max() <= 10
    for task in ("digit", "loop"):
        assert 0.3 < np.mean(labels[task] == -1) < 0.7
        assert np.all(splits["dev"][1][task] >= 0) and np.all(splits["test"][1][task] >= 0)
    full, _ = task_splits(digits, TaskDataConfig(classes=(5, 6, 7, 8, 9)), TASKS, seed=1)
    assert np.bincount(full["train"][1]["digit"]).min() > 10
    # Dev and test depend on split_seed only; the run seed picks the training labels.
    other, _ = task_splits(digits, config, TASKS, seed=2)
    np.testing.assert_array_equal(other["test"][0], splits["test"][0])
    assert not np.array_equal(other["train"][0], splits["train"][0])
    sizes = {name: len(x) for name, (x, _) in full.items()}
    assert sum(sizes.values()) == np.isin(digits.y, [5, 6, 7, 8, 9]).sum()


def test_unknown_classes_name_the_key():
    digits = load_digits()
    with pytest.raises(ValueError, match=r"config key 'data\.classes'"):
        task_splits(digits, TaskDataConfig(classes=(3, 11)), TASKS[:1], 0)
    with pytest.raises(ValueError, match=r"config key 'tasks\.loop\.positive'"):
        task_splits(digits, TaskDataConfig(classes=(1, 2)), TASKS, 0)
