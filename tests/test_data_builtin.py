import numpy as np
from sklearn.datasets import load_digits as sklearn_digits

from jaxdiag.data import load_digits


def test_digits_match_the_uci_copy_in_scikit_learn():
    data = load_digits()
    reference = sklearn_digits()
    assert data.x.shape == (1797, 8, 8, 1) and data.x.dtype == np.float32
    assert data.y.shape == (1797,) and data.y.dtype == np.int32
    np.testing.assert_array_equal(data.x[..., 0], reference.images)
    np.testing.assert_array_equal(data.y, reference.target)
    assert data.class_names == tuple("0123456789")
    assert data.num_classes == 10 and data.input_shape == (8, 8, 1)
