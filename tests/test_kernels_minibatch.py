import numpy as np
from jaxdiag.kernels import minibatch_indices


def test_minibatches_are_uniform_and_depend_only_on_seed_and_step():
    first = np.asarray(minibatch_indices(3, np.arange(100), 64, 300))
    np.testing.assert_array_equal(np.asarray(minibatch_indices(3, np.arange(50, 60), 64, 300)),
                                  first[50:60])
    assert not np.array_equal(np.asarray(minibatch_indices(4, np.arange(100), 64, 300)), first)
    counts = np.bincount(first.ravel(), minlength=300)  # 6400 draws over 300 examples
    expected = first.size / 300
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 400  # 299 degrees of freedom: the 0.999 quantile is about 387
