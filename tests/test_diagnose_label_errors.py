import numpy as np
import pytest

from jaxdiag.data import fit_normalizer, load_digits, normalize
from jaxdiag.diagnose import cross_validated_probabilities, find_label_errors


def test_confident_joint_by_hand():
    y = np.array([0, 0, 0, 1, 1, 1])
    p = np.array([[0.9, 0.1], [0.8, 0.2], [0.2, 0.8], [0.1, 0.9], [0.3, 0.7], [0.6, 0.4]])
    found = find_label_errors(y, p)
    np.testing.assert_allclose(found.thresholds, [1.9 / 3, 2.0 / 3])
    assert found.indices.tolist() == [2] and found.suggested.tolist() == [1]
    assert found.self_confidence.tolist() == [0.2]
    # example 5 reaches neither threshold and is left out of the joint
    assert found.confident_joint.tolist() == [[2, 1], [0, 2]]
    with pytest.raises(ValueError, match="labels in"):
        find_label_errors(np.array([0, 2]), p[:2])
    with pytest.raises(ValueError, match="shapes"):
        find_label_errors(y[:3], p)


@pytest.mark.parametrize("seed", [0, 1])
def test_finds_planted_label_flips_in_digits(seed):
    """5% of the digits labels flipped on purpose: recall >= 0.8 at precision >= 0.5."""
    digits = load_digits()
    x = normalize(digits.x, fit_normalizer(digits.x))
    rng = np.random.default_rng(seed)
    flipped = rng.choice(len(x), round(0.05 * len(x)), replace=False)
    y = digits.y.copy()
    y[flipped] = (y[flipped] + rng.integers(1, 10, len(flipped))) % 10
    probabilities = cross_validated_probabilities(x, y, 10, seed=seed)
    assert probabilities.shape == (len(x), 10)
    np.testing.assert_allclose(probabilities.sum(1), 1, rtol=1e-5)
    found = find_label_errors(y, probabilities)
    hits = np.isin(found.indices, flipped)
    recall, precision = hits.sum() / len(flipped), hits.mean()
    assert recall >= 0.8 and precision >= 0.5, (recall, precision)
    # the suggested label of a caught flip is mostly the original one
    caught = found.indices[hits]
    assert np.mean(found.suggested[hits] == digits.y[caught]) > 0.9
