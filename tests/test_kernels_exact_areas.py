import importlib
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxdiag.kernels import exact_average_precision, exact_roc_auc
from sklearn.metrics import average_precision_score, roc_auc_score

exact_areas = importlib.import_module("jaxdiag.kernels.exact_areas")
LEVELS = np.array([0.5, -0.0, 0.0, -3.0, 2.0, -1e-30, 7.25, 0.25])


def _rows(seed, rows, n, weighted):
    """Scores with heavy ties and signed zeros; labels; optional weights with some zeros."""
    rng = np.random.default_rng(seed)
    dtype = np.float64 if jnp.result_type(float) == jnp.float64 else np.float32
    score = rng.choice(LEVELS, (rows, n)).astype(dtype)
    score[0] = rng.random(n)  # one row with (almost) no ties
    label = rng.integers(0, 2, (rows, n)).astype(np.uint8)
    weight = rng.choice([0.0, 0.5, 1.0, 3.0], (rows, n)).astype(dtype) if weighted else None
    return score, label, weight


def _sklearn(function, score, label, weight):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.array([function(label[k], score[k],
                                  sample_weight=None if weight is None else weight[k])
                         for k in range(len(score))])


@pytest.mark.parametrize("weighted", [False, True])
def test_vmapped_areas_match_sklearn_per_row(tolerance, weighted):
    score, label, weight = _rows(0, 6, 300, weighted)
    operands = (score, label) if weight is None else (score, label, weight)
    ap = jax.jit(jax.vmap(exact_average_precision))(*operands)
    auc = jax.jit(jax.vmap(exact_roc_auc))(*operands)
    assert ap.dtype == jnp.result_type(float) and ap.shape == (6,)
    np.testing.assert_allclose(ap, _sklearn(average_precision_score, score, label, weight),
                               rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(auc, _sklearn(roc_auc_score, score, label, weight),
                               rtol=tolerance, atol=tolerance)


def test_rows_split_into_blocks_give_the_same_areas(monkeypatch):
    score, label, _ = _rows(1, 7, 50, False)
    whole = jax.vmap(exact_average_precision)(score, label), jax.vmap(exact_roc_auc)(score, label)
    monkeypatch.setattr(importlib.import_module("jaxdiag.kernels.host_blocks"),
                        "BLOCK_ELEMENTS", 100)  # two rows per block
    blocks = jax.vmap(exact_average_precision)(score, label), jax.vmap(exact_roc_auc)(score, label)
    np.testing.assert_array_equal(whole, blocks)


@pytest.mark.parametrize("weighted", [False, True])
def test_the_device_path_agrees_with_the_host_path(weighted):
    score, label, weight = _rows(2, 4, 200, weighted)
    operands = (score, label) if weight is None else (score, label, weight)
    for kind, host in (("average_precision", exact_average_precision),
                       ("roc_auc", exact_roc_auc)):
        device = jax.vmap(lambda *a, kind=kind: exact_areas._device_area(kind, *a))(*operands)
        np.testing.assert_allclose(device, jax.vmap(host)(*operands), rtol=1e-6)


def test_one_class_gives_zero_average_precision_and_nan_auc():
    score = np.array([0.3, 0.3, 0.9, 0.1], np.float32)
    negatives, positives = np.zeros(4, np.uint8), np.ones(4, np.uint8)
    assert float(exact_average_precision(score, negatives)) == 0.0
    assert float(exact_average_precision(score, positives)) == 1.0
    assert np.isnan(exact_roc_auc(score, negatives)) and np.isnan(exact_roc_auc(score, positives))
    no_positive_weight = np.array([0.0, 1.0, 1.0, 1.0], np.float32)
    label = np.array([1, 0, 0, 0], np.uint8)
    assert float(exact_average_precision(score, label, no_positive_weight)) == 0.0
    assert np.isnan(exact_roc_auc(score, label, no_positive_weight))


def test_a_hand_computed_tie_between_a_positive_and_a_negative():
    # Sorted: 0.9 (+), then {0.5 (+), 0.5 (-)} tied, then 0.1 (-).
    score = np.array([0.5, 0.1, 0.9, 0.5], np.float32)
    label = np.array([1, 0, 1, 0], np.uint8)
    # AP: positive at 0.9 has precision 1/1; the tie group ends at 2 of 3 -> (1 + 2/3) / 2.
    np.testing.assert_allclose(exact_average_precision(score, label), (1 + 2 / 3) / 2, rtol=1e-6)
    # AUC: the negative at 0.5 has one positive above and one tied (1 + 1/2); 0.1 has two.
    np.testing.assert_allclose(exact_roc_auc(score, label), (1.5 + 2) / 4, rtol=1e-6)
