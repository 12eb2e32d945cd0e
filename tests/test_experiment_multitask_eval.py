import numpy as np
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

from jaxdiag.experiment.multitask_eval import make_multitask_evaluator


def test_metrics_over_labelled_entries_match_sklearn():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4)).astype(np.float32)
    w = rng.normal(size=(4, 4)).astype(np.float32)

    def apply(params, x):
        out = x @ params
        return {"cls": out[:, :3], "flag": out[:, 3]}

    labels = {"cls": rng.integers(0, 3, 300), "flag": (x[:, 0] + rng.normal(size=300) > 0)}
    labels = {k: np.where(rng.random(300) < 0.3, -1, v.astype(np.int32))
              for k, v in labels.items()}
    evaluate = make_multitask_evaluator(apply, {"cls": "multiclass", "flag": "binary"},
                                        {"cls": 1.0, "flag": 2.0}, batch_size=128)
    result = evaluate(w, x, labels)
    logits = x @ w
    keep = labels["cls"] >= 0
    cls = result["tasks"]["cls"]
    predicted = logits[:, :3].argmax(1)
    np.testing.assert_allclose(cls["accuracy"], accuracy_score(labels["cls"][keep],
                                                               predicted[keep]), rtol=1e-6)
    np.testing.assert_allclose(cls["f1"], f1_score(labels["cls"][keep], predicted[keep],
                                                   average="macro"), rtol=1e-5)
    assert cls["labelled"] == keep.sum() and cls["roc_auc"] is None
    keep = labels["flag"] >= 0
    flag = result["tasks"]["flag"]
    y, score = labels["flag"][keep], logits[keep, 3]
    np.testing.assert_allclose(flag["accuracy"], accuracy_score(y, score > 0), rtol=1e-6)
    np.testing.assert_allclose(flag["f1"], f1_score(y, score > 0), rtol=1e-5)
    np.testing.assert_allclose(flag["roc_auc"], roc_auc_score(y, score), rtol=1e-5)
    np.testing.assert_allclose(result["loss"], cls["loss"] + 2 * flag["loss"], rtol=1e-6)
    np.testing.assert_allclose(result["accuracy"], (cls["accuracy"] + flag["accuracy"]) / 2)


def test_unlabelled_task_and_one_class_give_nan_and_none():
    def apply(params, x):
        return {"a": x[:, 0], "b": x[:, 1]}

    x = np.random.default_rng(1).normal(size=(20, 2)).astype(np.float32)
    evaluate = make_multitask_evaluator(apply, {"a": "binary", "b": "binary"},
                                        {"a": 1.0, "b": 1.0}, batch_size=8)
    result = evaluate(None, x, {"a": np.full(20, -1), "b": np.ones(20, np.int32)})
    a, b = result["tasks"]["a"], result["tasks"]["b"]
    assert a["labelled"] == 0 and np.isnan(a["accuracy"]) and a["loss"] == 0.0
    assert b["labelled"] == 20 and b["roc_auc"] is None
    np.testing.assert_allclose(b["accuracy"], np.mean(x[:, 1] > 0), rtol=1e-6)
