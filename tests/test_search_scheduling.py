import jax

from jaxdiag.search import concurrent_groups, members_per_chunk, mlp_task, scheduling


def test_chunk_rule_vmaps_small_models_and_not_big_ones():
    tiny, small = mlp_task((16,), 4, hidden=(16, 16)), mlp_task((16,), 4, hidden=(512,) * 3)
    assert members_per_chunk(tiny, 32, 256, "cpu") == 64
    assert members_per_chunk(small, 128, 256, "cpu") == 1
    assert members_per_chunk(small, 128, 256, "gpu") == 256


def test_group_rule_splits_members_over_cores_when_each_group_has_work(monkeypatch):
    monkeypatch.setattr(scheduling, "cpu_cores", lambda: 4)
    cpu = jax.devices("cpu")[:1]
    # 117 kFLOP and 4 MFLOP a step
    tiny, small = mlp_task((16,), 4, hidden=(16, 16)), mlp_task((16,), 4, hidden=(64, 64))
    assert concurrent_groups(tiny, 32, 8, cpu) == 1  # 4 members would cost 0.5 MFLOP
    assert concurrent_groups(tiny, 32, 256, cpu) == 4
    assert concurrent_groups(tiny, 32, 40, cpu) == 2  # 4 groups of 10 fall below 2 MFLOP
    assert concurrent_groups(small, 128, 6, cpu) == 3  # divides the members
    assert concurrent_groups(small, 128, 1, cpu) == 1
    assert concurrent_groups(small, 128, 8, cpu * 2) == 1  # several devices run in parallel
