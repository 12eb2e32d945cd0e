import jax.numpy as jnp
import numpy as np
from sklearn.metrics import confusion_matrix, log_loss

from jaxdiag.experiment import make_block_predictor, make_evaluator, make_predictor
from jaxdiag.models import as_model


def test_padded_batches_match_scikit_learn():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 6)).astype(np.float32)
    y = rng.integers(0, 3, 20).astype(np.int32)
    w = rng.normal(size=(6, 3)).astype(np.float32)
    evaluate = make_evaluator(as_model((lambda p, x: x @ p, w)), num_classes=3, batch_size=7)
    result = evaluate(jnp.asarray(w), {}, x, y)
    logits = x.astype(np.float64) @ w
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(result.loss, log_loss(y, p, labels=range(3)), rtol=1e-5)
    predicted = logits.argmax(1)
    np.testing.assert_array_equal(result.confusion, confusion_matrix(y, predicted, labels=range(3)))
    np.testing.assert_allclose(result.accuracy, np.mean(predicted == y))
    assert result.error == 1 - result.accuracy
    assert result.as_dict()["size"] == 20


def test_predictor_gives_softmax_probabilities_of_every_example():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(20, 6)).astype(np.float32)
    w = rng.normal(size=(6, 3)).astype(np.float32)
    probabilities = make_predictor(as_model((lambda p, x: x @ p, w)), batch_size=7)(
        jnp.asarray(w), {}, x)
    logits = x.astype(np.float64) @ w
    expected = np.exp(logits - logits.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    assert probabilities.shape == (20, 3)
    np.testing.assert_allclose(probabilities, expected, rtol=1e-5, atol=1e-7)


def test_a_split_of_many_chunks_gives_the_numbers_of_one(monkeypatch):
    """Evaluation and prediction go a chunk of batches at a time (bounded memory); the sums
    are carried from chunk to chunk, so the numbers are those of one pass."""
    import jaxdiag.experiment.evaluate as evaluate_module

    rng = np.random.default_rng(2)
    x = rng.normal(size=(53, 6)).astype(np.float32)
    y = rng.integers(0, 3, 53).astype(np.int32)
    w = rng.normal(size=(6, 3)).astype(np.float32)
    model = as_model((lambda p, x: x @ p, w))
    whole = make_evaluator(model, 3, batch_size=4)(jnp.asarray(w), {}, x, y)
    probabilities = make_predictor(model, batch_size=4)(jnp.asarray(w), {}, x)
    monkeypatch.setattr(evaluate_module, "CHUNK_BATCHES", 3)  # 5 chunks of 12, the last of 5
    chunked = make_evaluator(model, 3, batch_size=4)(jnp.asarray(w), {}, jnp.asarray(x), y)
    assert chunked.loss == whole.loss
    np.testing.assert_array_equal(chunked.confusion, whole.confusion)
    np.testing.assert_array_equal(make_predictor(model, batch_size=4)(jnp.asarray(w), {}, x),
                                  probabilities)
    blocks = list(make_block_predictor(model, batch_size=4)(jnp.asarray(w), {}, x))
    assert [len(b) for b in blocks] == [12, 12, 12, 12, 5]  # computed block by block
    np.testing.assert_array_equal(np.concatenate(blocks), probabilities)
