import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import sklearn.metrics as sk

import jaxdiag.metrics as jm
from jaxdiag.metrics import streaming


def _stream(metric, batches):
    state = metric.init()
    update = jax.jit(metric.update)
    for batch in batches:
        state = update(state, *batch)
    return metric.compute(state)


def test_classification_streams_equal_sklearn_on_the_whole_data():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 5, 1000), rng.integers(0, 5, 1000)
    weight = rng.uniform(0, 2, 1000).astype(np.float32)
    batches = [(y_true[i:i + 100], y_pred[i:i + 100], weight[i:i + 100])
               for i in range(0, 1000, 100)]
    accuracy = _stream(streaming.accuracy(), batches)
    assert abs(float(accuracy) - sk.accuracy_score(y_true, y_pred, sample_weight=weight)) < 1e-5
    for average in (None, "micro", "macro", "weighted"):
        got = _stream(streaming.precision_recall_fscore(5, average), batches)
        expected = sk.precision_recall_fscore_support(y_true, y_pred, average=average,
                                                      sample_weight=weight)
        for g, e in zip(got, expected[:3], strict=True):
            np.testing.assert_allclose(g, e, rtol=1e-5)


def test_binned_curve_streams_equal_the_functional_binned_metrics():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 2, 5000)
    y_score = rng.random(5000).astype(np.float32) ** (1 + y_true)
    batches = [(y_true[i:i + 1000], y_score[i:i + 1000]) for i in range(0, 5000, 1000)]
    for metric, function in ((streaming.average_precision(100), jm.average_precision_score),
                             (streaming.roc_auc(100), jm.roc_auc_score)):
        expected = function(y_true, y_score, num_thresholds=100)
        assert abs(float(_stream(metric, batches)) - float(expected)) < 1e-6


def test_states_merge_like_one_stream_and_vmap_over_a_population():
    rng = np.random.default_rng(2)
    y_true = rng.integers(0, 3, (4, 200))
    y_prob = rng.dirichlet(np.ones(3), (4, 200)).astype(np.float32)
    metric = streaming.calibration(10)
    states = jax.vmap(lambda t, p: metric.update(metric.init(), t, p))(y_true, y_prob)
    merged = metric.init()
    for k in range(4):
        merged = metric.merge(merged, jax.tree.map(lambda s, k=k: s[k], states))
    ece, table = metric.compute(merged)
    expected = jm.expected_calibration_error(y_true.ravel(), y_prob.reshape(-1, 3), num_bins=10)
    assert abs(float(ece) - float(expected)) < 1e-6
    assert float(table.weight.sum()) == 800
    per_member = jax.vmap(lambda s: metric.compute(s)[0])(states)
    for k in range(4):
        single = jm.expected_calibration_error(y_true[k], y_prob[k], num_bins=10)
        assert abs(float(per_member[k]) - float(single)) < 1e-6


def test_error_rate_stream_equals_word_error_rate():
    references = ["the cat sat", "a dog", "hello world again"]
    hypotheses = ["the cat sat down", "a frog", "hello again"]
    vocabulary = {}
    ids = [[vocabulary.setdefault(w, len(vocabulary)) for w in s.split()]
           for s in references + hypotheses]

    def padded(rows):
        out = np.full((len(rows), 4), -1)
        for i, r in enumerate(rows):
            out[i, :len(r)] = r
        return out, np.array([len(r) for r in rows])

    metric = streaming.error_rate()
    state = metric.update(metric.init(), padded(ids[:3]), padded(ids[3:]))
    expected = jm.word_error_rate(references, hypotheses)
    assert abs(float(metric.compute(state)) - float(expected)) < 1e-6


def test_psum_across_four_devices_equals_one_device():
    script = textwrap.dedent("""
        import jax, jax.numpy as jnp, numpy as np
        from jax.sharding import Mesh, PartitionSpec as P
        from jaxdiag.metrics import streaming
        assert jax.device_count() == 4
        rng = np.random.default_rng(0)
        y_true = rng.integers(0, 2, 4000)
        y_score = rng.random(4000).astype(np.float32)
        metric = streaming.roc_auc(50)
        mesh = Mesh(np.array(jax.devices()), ("batch",))

        def per_device(t, s):
            return jax.lax.psum(metric.update(metric.init(), t, s), "batch")

        sharded = jax.shard_map(per_device, mesh=mesh, in_specs=(P("batch"), P("batch")),
                                out_specs=P())(y_true, y_score)
        single = metric.update(metric.init(), y_true, y_score)
        assert np.array_equal(np.asarray(sharded), np.asarray(single))
        print("ok", float(metric.compute(sharded)))
    """)
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4",
               JAX_PLATFORMS="cpu")
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("ok")


def test_metric_states_are_pytrees_of_arrays():
    for metric in (streaming.accuracy(), streaming.confusion(3), streaming.roc_auc(10),
                   streaming.calibration(5), streaming.mean(), streaming.error_rate()):
        leaves = jax.tree.leaves(metric.init())
        assert leaves and all(isinstance(leaf, jnp.ndarray) for leaf in leaves)
