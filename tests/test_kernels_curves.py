import jax
import numpy as np
from jaxdiag.kernels import (
    average_precision,
    binned_curve,
    exact_curve,
    roc_auc,
    score_histogram,
    sort_by_score,
)
from sklearn.metrics import average_precision_score, roc_auc_score


def test_host_sort_keeps_labels_with_their_scores_including_signed_zeros_and_negatives():
    score = np.array([0.5, -0.0, 0.0, -3.0, 2.0, 0.5, -1e-30], np.float32)
    label = np.array([1, 0, 1, 1, 0, 0, 1], np.uint8)
    got_score, got_label = jax.jit(sort_by_score)(score, label)
    order = np.argsort(-score, kind="stable")
    np.testing.assert_array_equal(got_score, score[order])
    pairs = sorted(zip(score.tolist(), label.tolist(), strict=True), reverse=True)
    assert sorted(zip(np.asarray(got_score).tolist(), np.asarray(got_label).tolist(), strict=True),
                  reverse=True) == pairs
    weight = np.arange(7, dtype=np.float32)
    s, lab, w = sort_by_score(score, label, weight)
    assert sorted(zip(s.tolist(), lab.tolist(), w.tolist(), strict=True)) == sorted(
        zip(score.tolist(), label.tolist(), weight.tolist(), strict=True))


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
