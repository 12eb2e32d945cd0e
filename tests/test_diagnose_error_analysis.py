import numpy as np
import pytest

from jaxdiag.diagnose import costly_confusions, error_categories, worst_mistakes


def test_worst_mistakes_are_the_most_confident_wrong_predictions():
    y = np.array([0, 1, 2, 0, 1])
    p = np.array([[0.9, 0.05, 0.05],  # right
                  [0.7, 0.2, 0.1],    # wrong, 0.7
                  [0.05, 0.9, 0.05],  # wrong, 0.9
                  [0.4, 0.6, 0.0],    # wrong, 0.6
                  [0.1, 0.8, 0.1]])   # right
    worst = worst_mistakes(y, p, k=2)
    assert worst.indices.tolist() == [2, 1]
    assert worst.y_true.tolist() == [2, 1] and worst.y_pred.tolist() == [1, 0]
    np.testing.assert_allclose(worst.confidence, [0.9, 0.7])
    assert worst_mistakes(y, p, k=10).indices.tolist() == [2, 1, 3]
    assert worst.as_dict()[0] == {"index": 2, "true": 2, "predicted": 1, "confidence": 0.9}
    with pytest.raises(ValueError, match="y_true, probabilities"):
        worst_mistakes(y[:3], p)


def test_costly_confusions_by_hand():
    confusion = np.array([[50, 3, 0], [8, 40, 1], [0, 0, 48]])  # 150 examples, 12 errors
    pairs = costly_confusions(confusion, ("cat", "dog", "fox"), top=5)
    assert [(p["true"], p["predicted"], p["count"]) for p in pairs] == [
        ("dog", "cat", 8), ("cat", "dog", 3), ("dog", "fox", 1)]
    assert pairs[0]["share_of_errors"] == pytest.approx(8 / 12)
    assert pairs[0]["ceiling"] == pytest.approx(8 / 150)
    with pytest.raises(ValueError, match="square"):
        costly_confusions(np.ones((2, 3)))


def test_error_categories_and_their_ceilings_as_in_ngs_spreadsheet():
    # 100 dev examples, 10 mistakes: 6 blurry (one also a dog), 2 dogs, 2 other.
    y_true = np.zeros(100, int)
    y_pred = np.zeros(100, int)
    y_pred[:10] = 1
    blurry = np.zeros(100, bool)
    blurry[:6] = True
    blurry[50:60] = True  # blurry but right
    dog = np.zeros(100, bool)
    dog[[5, 6, 7]] = True
    rows = error_categories(y_true, y_pred, {"dog": dog, "blurry": blurry})
    assert [r["category"] for r in rows] == ["blurry", "dog"]
    assert rows[0]["errors"] == 6 and rows[0]["share_of_errors"] == pytest.approx(0.6)
    assert rows[0]["ceiling"] == pytest.approx(0.06)  # 10% error -> at best 4%
    assert rows[0]["error_rate_in_category"] == pytest.approx(6 / 16)
    assert rows[1]["ceiling"] == pytest.approx(0.03)
    with pytest.raises(ValueError, match=r"tags\['dog'\]"):
        error_categories(y_true, y_pred, {"dog": dog[:5]})
