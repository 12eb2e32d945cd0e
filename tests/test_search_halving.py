import numpy as np

from jaxdiag.search import survivors


def test_keeps_the_best_fraction_by_error_then_loss():
    error = np.array([0.3, 0.1, 0.2, 0.1, 0.5, 0.4])
    loss = np.array([1.0, 0.9, 0.5, 0.4, 0.1, 0.2])
    np.testing.assert_array_equal(survivors(error, loss, 1 / 3),
                                  [False, True, False, True, False, False])
    np.testing.assert_array_equal(survivors(error, loss, 0.5),
                                  [False, True, True, True, False, False])


def test_failed_members_never_survive_and_one_always_does():
    error = np.array([np.nan, 0.9, np.nan])
    loss = np.array([np.nan, 2.0, np.nan])
    np.testing.assert_array_equal(survivors(error, loss, 0.01), [False, True, False])
    assert not survivors(np.full(3, np.nan), np.full(3, np.nan), 0.5).any()


def test_ties_keep_the_earlier_member():
    np.testing.assert_array_equal(survivors(np.zeros(4), np.zeros(4), 0.5),
                                  [True, True, False, False])
