import jax
import numpy as np
from jaxdiag.kernels import confusion_matrix
from sklearn.metrics import confusion_matrix as sklearn_confusion


def test_matches_scikit_learn_with_weights():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 5, 1000), rng.integers(0, 5, 1000)
    w = rng.uniform(0, 2, 1000).astype(np.float32)
    got = jax.jit(confusion_matrix, static_argnums=2)(y_true, y_pred, 5, w)
    expected = sklearn_confusion(y_true, y_pred, labels=range(5), sample_weight=w)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred, 5),
                                  sklearn_confusion(y_true, y_pred, labels=range(5)))


def test_out_of_range_labels_are_dropped_not_misplaced():
    got = confusion_matrix(np.array([0, 0, 1, -1, 3]), np.array([0, 3, 1, 0, 1]), 3)
    np.testing.assert_array_equal(got, [[1, 0, 0], [0, 1, 0], [0, 0, 0]])


def test_vmap_over_a_population_of_predictions():
    rng = np.random.default_rng(1)
    y_true, y_pred = rng.integers(0, 3, 50), rng.integers(0, 3, (4, 50))
    got = jax.vmap(confusion_matrix, in_axes=(None, 0, None))(y_true, y_pred, 3)
    for k in range(4):
        np.testing.assert_array_equal(got[k], sklearn_confusion(y_true, y_pred[k], labels=range(3)))
