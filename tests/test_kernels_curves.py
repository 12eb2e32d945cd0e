import importlib

import jax
import numpy as np
import pytest
from jaxdiag.kernels import (
    SortedCounts,
    average_precision,
    binned_curve,
    descending_key,
    exact_curve,
    roc_auc,
    score_from_key,
    score_histogram,
    sorted_counts,
)
from jaxdiag.kernels.sorted_counts import _device_counts
from sklearn.metrics import average_precision_score, roc_auc_score


def _expected_counts(score, label, weight):
    """float64 NumPy reference: counts at each distinct score, highest score first."""
    distinct = np.unique(score)[::-1]
    tps = np.array([weight[(score >= t) & (label == 1)].sum() for t in distinct])
    fps = np.array([weight[(score >= t) & (label == 0)].sum() for t in distinct])
    return distinct, tps, fps


def _grouped(counts, dtype):
    """The per-point SortedCounts reduced to one row per distinct score, checking the ties."""
    score = np.asarray(score_from_key(counts.key, dtype))
    last = np.append(score[1:] != score[:-1], True)
    first = np.insert(last[:-1], 0, True)
    tps, fps = np.asarray(counts.tps)[last], np.asarray(counts.fps)[last]
    np.testing.assert_array_equal(np.asarray(counts.tps_before)[first], np.r_[0, tps[:-1]])
    np.testing.assert_array_equal(np.asarray(counts.fps_before)[first], np.r_[0, fps[:-1]])
    return score[last], tps, fps


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("path", ["host", "device"])
def test_sorted_counts_match_a_float64_reference_with_ties_signed_zeros_and_negatives(
        weighted, path):
    rng = np.random.default_rng(0)
    score = rng.choice(np.array([0.5, -0.0, 0.0, -3.0, 2.0, -1e-30, 7.25], np.float32), 300)
    label = rng.integers(0, 2, 300).astype(np.uint8)
    weight = rng.random(300).astype(np.float32) if weighted else None
    if path == "host":
        counts = jax.jit(sorted_counts)(score, label, weight)
    else:
        operands = (descending_key(score), label) + ((weight,) if weighted else ())
        counts = SortedCounts(*jax.jit(_device_counts)(*operands))
    assert np.all(np.diff(np.asarray(score_from_key(counts.key, np.float32))) <= 0)
    got = _grouped(counts, np.float32)
    expected = _expected_counts(score, label, np.ones(300) if weight is None else weight)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-5)
    np.testing.assert_allclose(got[2], expected[2], rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_descending_keys_order_scores_and_merge_signed_zeros_under_jit(dtype):
    score = np.array([0.5, -0.0, 0.0, -3.0, np.inf, -1e-3, 7.25, -np.inf], dtype)
    for key_of in (descending_key, jax.jit(descending_key)):
        key = np.asarray(key_of(score))
        assert key[1] == key[2]  # -0.0 and 0.0 are one score
        np.testing.assert_array_equal(np.argsort(key, kind="stable"),
                                      np.argsort(-score.astype(np.float64), kind="stable"))
        back = np.asarray(score_from_key(key, dtype))
        np.testing.assert_array_equal(back, score)
        assert not np.signbit(back[1]) and not np.signbit(back[2])


def test_host_counts_split_a_batch_into_blocks_like_one_call(monkeypatch):
    rng = np.random.default_rng(3)
    score = np.round(rng.random((7, 50)), 1).astype(np.float32)
    label = rng.integers(0, 2, (7, 50)).astype(np.uint8)
    whole = jax.vmap(sorted_counts)(score, label)
    module = importlib.import_module("jaxdiag.kernels.host_blocks")
    monkeypatch.setattr(module, "BLOCK_ELEMENTS", 100)  # two rows per block
    blocks = jax.vmap(sorted_counts)(score, label)
    for k in range(7):
        a = _grouped(SortedCounts(*(f[k] for f in whole)), np.float32)
        b = _grouped(SortedCounts(*(f[k] for f in blocks)), np.float32)
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)


def test_vmapped_curves_match_sklearn_per_member():
    rng = np.random.default_rng(0)
    scores = np.round(rng.random((5, 200)), 2).astype(np.float32)
    labels = rng.integers(0, 2, (5, 200))
    ap = jax.vmap(lambda s, y: average_precision(exact_curve(s, y)))(scores, labels)
    auc = jax.vmap(lambda s, y: roc_auc(exact_curve(s, y)))(scores, labels)
    for k in range(5):
        assert abs(float(ap[k]) - average_precision_score(labels[k], scores[k])) < 1e-6
        assert abs(float(auc[k]) - roc_auc_score(labels[k], scores[k])) < 1e-6


def test_histograms_of_batches_add_up():
    rng = np.random.default_rng(1)
    score = rng.random(1000).astype(np.float32)
    label = rng.integers(0, 2, 1000)
    whole = score_histogram(score, label, 21)
    parts = score_histogram(score[:400], label[:400], 21) + score_histogram(score[400:],
                                                                            label[400:], 21)
    np.testing.assert_array_equal(whole, parts)
    expected = np.stack([np.bincount(np.floor(score[label == c] * 20).astype(int), minlength=21)
                         for c in (0, 1)])
    np.testing.assert_array_equal(whole, expected)
    assert float(binned_curve(whole).tps[-1]) == label.sum()


@pytest.mark.parametrize("seed", [0, 1])
def test_reweighted_curve_areas_equal_sklearns_weighted_ones(seed):
    """A curve sorted once and re-weighted by bootstrap-like counts (zeros included, ties from
    rounded scores) has scikit-learn's weighted areas."""
    from jaxdiag.kernels import curve_order, reweighted_curve

    rng = np.random.default_rng(seed)
    y = rng.random(500) < 0.3
    score = np.round(rng.random(500), 2).astype(np.float32)
    order = curve_order(jax.numpy.asarray(score), jax.numpy.asarray(y))
    for weight in (np.ones(500), rng.integers(0, 4, 500)):
        curve = reweighted_curve(order, jax.numpy.asarray(weight, np.float32))
        assert float(roc_auc(curve)) == pytest.approx(
            roc_auc_score(y, score, sample_weight=weight), abs=1e-6)
        assert float(average_precision(curve)) == pytest.approx(
            average_precision_score(y, score, sample_weight=weight), abs=1e-6)
