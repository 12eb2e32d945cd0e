import pytest

from jaxdiag.diagnose import choose_model

# Ng's example: maximize accuracy subject to a running time of at most 100 ms.
CLASSIFIERS = [{"name": "A", "accuracy": 0.90, "latency_ms": 80},
               {"name": "B", "accuracy": 0.92, "latency_ms": 95},
               {"name": "C", "accuracy": 0.95, "latency_ms": 1500}]


def test_ngs_running_time_example():
    choice = choose_model(CLASSIFIERS, "accuracy", {"latency_ms": ("<=", 100)})
    assert choice["best"] == 1 and choice["feasible"] == [0, 1]
    assert choice["violations"] == {2: ["latency_ms <= 100 (found 1500)"]}
    assert choose_model(CLASSIFIERS, "accuracy")["best"] == 2


def test_several_constraints_minimizing_and_no_feasible_model():
    models = [{"error": 0.05, "fpr": 0.02, "latency_ms": 10},
              {"error": 0.07, "fpr": 0.005, "latency_ms": 12},
              {"error": 0.06, "fpr": 0.008, "latency_ms": 30}]
    choice = choose_model(models, "error", {"fpr": ("<=", 0.01), "latency_ms": ("<", 20)},
                          maximize=False)
    assert choice["best"] == 1
    none = choose_model(models, "error", {"fpr": ("<", 0.001)}, maximize=False)
    assert none["best"] is None and none["feasible"] == []


def test_bad_constraints_name_the_problem():
    with pytest.raises(ValueError, match=r"constraints\['latency_ms'\]"):
        choose_model(CLASSIFIERS, "accuracy", {"latency_ms": ("=<", 100)})
    with pytest.raises(ValueError, match=r"candidates\[0\]: expected the metric 'memory'"):
        choose_model(CLASSIFIERS, "accuracy", {"memory": ("<=", 1)})
