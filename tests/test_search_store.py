import math

import pytest

from jaxdiag.search import TrialStore


def result(i, status="complete", error=0.1):
    return {"id": i, "status": status, "dev_error": error, "dev_loss": 0.5, "steps": 30,
            "failed_at": -1, "rungs": {10: (0.3, 0.9), 30: (error, 0.5)}}


def test_a_population_is_recorded_then_finished_in_one_transaction(tmp_path):
    store = TrialStore(tmp_path / "t.sqlite")
    assert store.population_status(0) is None
    ids = store.start_population(0, [{"lr": 0.1}, {"lr": 0.2}])
    assert ids == [0, 1] and store.population_status(0) == "running"
    store.finish_population([result(0), result(1, "failed", float("nan"))])
    assert store.population_status(0) == "complete"
    assert store.start_population(1, [{"lr": 0.3}]) == [2]
    store.close()
    trials = TrialStore(tmp_path / "t.sqlite").trials()  # reopened: nothing lost
    assert [t["status"] for t in trials] == ["complete", "failed", "running"]
    assert trials[0]["hparams"] == {"lr": 0.1} and trials[0]["rungs"] == {10: (0.3, 0.9),
                                                                          30: (0.1, 0.5)}
    assert trials[1]["dev_error"] is None  # NaN is stored as NULL
    assert not math.isnan(trials[0]["dev_error"])


def test_a_killed_population_is_asked_again_under_the_same_ids(tmp_path):
    store = TrialStore(tmp_path / "t.sqlite")
    store.start_population(0, [{"lr": 0.1}, {"lr": 0.2}])
    assert store.start_population(0, [{"lr": 0.1}, {"lr": 0.2}]) == [0, 1]
    with pytest.raises(ValueError, match="population 0: started before with other points"):
        store.start_population(0, [{"lr": 0.5}, {"lr": 0.2}])
    store.finish_population([result(0), result(1)])
    with pytest.raises(ValueError, match="population 0: already finished"):
        store.start_population(0, [{"lr": 0.1}, {"lr": 0.2}])
    with pytest.raises(ValueError, match="status: expected one of"):
        store.finish_population([result(0, "running")])
    assert [t["status"] for t in store.trials()] == ["complete", "complete"]
