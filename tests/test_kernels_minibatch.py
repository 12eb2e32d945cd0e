import numpy as np
from jaxdiag.kernels import class_balanced_indices, class_layout, minibatch_indices
from scipy import stats


def test_minibatches_are_uniform_and_depend_only_on_seed_and_step():
    first = np.asarray(minibatch_indices(3, np.arange(100), 64, 300))
    np.testing.assert_array_equal(np.asarray(minibatch_indices(3, np.arange(50, 60), 64, 300)),
                                  first[50:60])
    assert not np.array_equal(np.asarray(minibatch_indices(4, np.arange(100), 64, 300)), first)
    counts = np.bincount(first.ravel(), minlength=300)  # 6400 draws over 300 examples
    expected = first.size / 300
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 400  # 299 degrees of freedom: the 0.999 quantile is about 387


def test_class_balanced_draws_take_each_class_at_the_same_rate():
    """Classes of 500, 50, 5 and 0 examples (sorted by class: starts 0, 500, 550, 555): each
    present class is drawn a third of the time (chi-square, 2 degrees of freedom), and within
    a class every example equally often (chi-square over the 500)."""
    starts, counts = np.array([0, 500, 550, 555]), np.array([500, 50, 5, 0])
    draws = np.asarray(class_balanced_indices(3, np.arange(400), 64, starts, counts)).ravel()
    labels = np.searchsorted(starts[1:], draws, side="right")
    per_class = np.bincount(labels, minlength=4)
    assert per_class[3] == 0 and draws.min() >= 0 and draws.max() < 555
    p = stats.chisquare(per_class[:3]).pvalue
    assert p > 1e-3, (per_class, p)
    within = np.bincount(draws[labels == 0], minlength=500)
    assert stats.chisquare(within).pvalue > 1e-3
    again = np.asarray(class_balanced_indices(3, np.arange(200, 210), 64, starts, counts))
    np.testing.assert_array_equal(again.ravel(), draws.reshape(400, 64)[200:210].ravel())


def test_the_class_layout_orders_by_class_and_leaves_the_rest_out():
    order, starts, counts = class_layout(np.array([1, 0, 2, 0, -1, 1, 3]), 3)
    np.testing.assert_array_equal(order, [1, 3, 0, 5, 2, 4, 6])  # -1 and 3 (out of range) last
    np.testing.assert_array_equal(starts, [0, 2, 4])
    np.testing.assert_array_equal(counts, [2, 2, 1])
