import json
import math

from jaxdiag.experiment.history import History


def test_improved_tracks_the_best_and_never_takes_a_nan():
    history = History()
    assert history.improved(100, 0.5, minimize=True)
    assert not history.improved(200, math.nan, minimize=True)
    assert not history.improved(300, 0.6, minimize=True)
    assert (history.best_step, history.best_value, history.evals_since_best) == (100, 0.5, 2)
    assert history.improved(400, 0.4, minimize=True) and history.evals_since_best == 0
    accuracy = History()
    assert accuracy.improved(1, 0.8, minimize=False)
    assert not accuracy.improved(2, 0.7, minimize=False)
    assert accuracy.best_value == 0.8


def test_as_dict_round_trips_through_json_with_diverged_at():
    history = History(train_loss=[[50, 1.0], [100, math.inf]], stopped="diverged",
                      stopped_at=100)
    record = json.loads(json.dumps(history.as_dict()))
    assert record["diverged_at"] == 100
    assert History.from_dict(record) == History(
        train_loss=[[50, 1.0], [100, math.inf]], stopped="diverged", stopped_at=100)
    assert History(stopped="early_stopping", stopped_at=80).diverged_at is None


def test_records_of_the_two_loops_before_one_history_are_read():
    run = {"train_loss": [[50, 2.0]], "eval": [], "diverged_at": 50, "monitor": []}
    assert History.from_dict(run).diverged_at == 50
    train = {"train_loss": [[20, 1.0], [40, 0.9]], "eval": [], "best_step": 20,
             "best_value": 0.3, "evals_since_best": 1, "stopped": "early_stopping"}
    old = History.from_dict(train)
    assert (old.stopped, old.stopped_at, old.best_step) == ("early_stopping", 40, 20)
