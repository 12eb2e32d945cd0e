import numpy as np
import pytest

from jaxdiag.diagnose import learning_rate_range
from jaxdiag.search import Data, mlp_task, train_population


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 600).astype(np.int32)
    x = (rng.normal(size=(600, 8)) + 2 * np.eye(3, 8)[y]).astype(np.float32)
    return Data(x[:500], y[:500], x[500:], y[500:])


def test_the_pick_is_robust_across_seeds_and_its_losses_are_the_populations(blobs):
    task = mlp_task((8,), 3, hidden=(16,), optimizer="sgd")
    result = learning_rate_range(task, blobs, low=1e-4, high=1e3, rates=8, seeds=2, steps=60,
                                 criterion="train_loss")
    np.testing.assert_allclose(result.learning_rates, np.geomspace(1e-4, 1e3, 8))
    assert result.final_loss.shape == result.dev_error.shape == (8, 2)
    # SGD at 1e3 diverges for every seed; the pick is a rate whose every seed trained
    assert np.isinf(result.score[-1]) and np.all(np.isinf(result.final_loss[-1]))
    k = int(np.argmin(result.score))
    assert result.pick == result.learning_rates[k] and np.all(np.isfinite(result.final_loss[k]))
    assert result.score[k] == pytest.approx(result.final_loss[k].mean()
                                            + result.final_loss[k].std(ddof=1))
    assert result.final_loss[k].mean() < 0.5 * result.final_loss[0].mean()  # 1e-4 barely moves
    # the same members trained on their own: the final loss is the mean of their last 6 steps
    again = train_population(task, {"learning_rate": np.repeat(result.learning_rates[k], 2),
                                    "weight_decay": np.zeros(2)}, 2 * k + np.arange(2), blobs,
                             steps=60, batch_size=64)
    np.testing.assert_allclose(result.final_loss[k], again.train_loss[:, -6:].mean(axis=1),
                               rtol=1e-5)
    np.testing.assert_allclose(result.dev_loss[k], again.dev_loss, rtol=1e-5)
    # the default criterion reads the dev loss of the same members
    by_dev = learning_rate_range(task, blobs, low=1e-4, high=1e3, rates=8, seeds=2, steps=60)
    assert by_dev.criterion == "dev_loss"
    np.testing.assert_allclose(by_dev.dev_loss, result.dev_loss)
    j = int(np.argmin(by_dev.score))
    assert by_dev.pick == by_dev.learning_rates[j] and by_dev.score[j] == pytest.approx(
        by_dev.dev_loss[j].mean() + by_dev.dev_loss[j].std(ddof=1))


@pytest.mark.parametrize(("kwargs", "name"), [({"low": 1.0, "high": 0.1}, "low, high"),
                                              ({"rates": 1}, "rates"), ({"steps": 5}, "steps"),
                                              ({"criterion": "accuracy"}, "criterion")])
def test_bad_arguments_name_themselves(blobs, kwargs, name):
    with pytest.raises(ValueError, match=f"^{name}: expected"):
        learning_rate_range(mlp_task((8,), 3, hidden=(4,)), blobs, **kwargs)
