import numpy as np
import pytest
from scipy.stats import qmc

from jaxdiag.search import sobol
from jaxdiag.search.sobol import MAX_DIMENSION


def test_unscrambled_points_equal_scipy():
    np.testing.assert_array_equal(sobol(1024, MAX_DIMENSION, scramble=False),
                                  qmc.Sobol(MAX_DIMENSION, scramble=False).random(1024))


def test_scrambled_points_are_balanced_and_reproducible():
    points = sobol(64, 5, seed=3)
    for column in points.T:  # every prefix of 2^m points fills each 1/2^m interval once
        assert sorted((column * 64).astype(int)) == list(range(64))
    assert not np.array_equal(points, sobol(64, 5, scramble=False))
    np.testing.assert_array_equal(points, sobol(64, 5, seed=3))
    assert not np.array_equal(points, sobol(64, 5, seed=4))
    # as uniform as scipy's own scrambled Sobol, far more than random points
    ours = qmc.discrepancy(sobol(256, 5, seed=1))
    assert ours < 1.5 * qmc.discrepancy(qmc.Sobol(5, seed=1).random(256))
    assert ours < 0.2 * qmc.discrepancy(np.random.default_rng(1).random((256, 5)))


def test_points_continue_from_start():
    whole = sobol(100, 4, seed=2)
    np.testing.assert_array_equal(np.vstack([sobol(37, 4, seed=2),
                                             sobol(63, 4, start=37, seed=2)]), whole)


def test_dimension_out_of_range_is_an_error():
    with pytest.raises(ValueError, match=f"dimension: expected 1 to {MAX_DIMENSION}, found 22"):
        sobol(8, 22)
