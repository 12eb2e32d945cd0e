"""The persistent compilation cache: what one process compiles, the next reads back."""

import os
import subprocess
import sys
import textwrap

from jaxdiag.experiment.compilation_cache import (
    MIN_SECONDS_VARIABLE,
    default_cache_dir,
    drop_orphan_entries,
    enable_compilation_cache,
)

COMPILE = textwrap.dedent("""
    import sys
    import jax
    import jax.numpy as jnp
    from jaxdiag.experiment.compilation_cache import enable_compilation_cache

    events = []
    jax.monitoring.register_event_listener(lambda event, **kw: events.append(event))
    assert str(enable_compilation_cache(sys.argv[1])) == sys.argv[1]

    @jax.jit
    def deep(x):  # cached whatever its compile time: the bar is 0 (MIN_SECONDS_VARIABLE)
        for i in range(20):
            x = jnp.sin(x) * (i + 1) + jnp.cos(x @ x.T)[:, :4]
        return x

    deep(jnp.ones((4, 4))).block_until_ready()
    print(sum(e.endswith("cache_hits") for e in events),
          sum(e.endswith("cache_misses") for e in events))
""")


def test_a_second_process_reads_what_the_first_compiled(tmp_path):
    folder = tmp_path / "cache"
    env = dict(os.environ, **{MIN_SECONDS_VARIABLE: "0"})
    runs = [subprocess.run([sys.executable, "-c", COMPILE, str(folder)], capture_output=True,
                           text=True, check=True, env=env) for _ in range(2)]
    (hits, misses), again = ([int(v) for v in r.stdout.split()] for r in runs)
    assert hits == 0 and misses >= 1, runs[0].stderr  # `deep`, and the small ops around it
    assert again == [misses, 0], runs[1].stderr  # all read back
    assert any(folder.iterdir())


def test_off_unwritable_and_default_folders(tmp_path, monkeypatch):
    assert enable_compilation_cache("off") is None
    (tmp_path / "file").write_text("x")
    assert enable_compilation_cache(tmp_path / "file" / "sub") is None  # no error: time only
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "jaxdiag" / "xla"


def test_an_entry_written_halfway_is_dropped_before_it_breaks_every_later_write(tmp_path):
    """JAX's LRU cache reads every entry's access-time file before each write; an entry whose
    process died (or whose write was refused) between its two files broke them all."""
    (tmp_path / "a-cache").write_bytes(b"whole")
    (tmp_path / "a-atime").write_bytes(b"\0" * 8)
    (tmp_path / "b-cache").write_bytes(b"half")
    assert drop_orphan_entries(tmp_path) == ["b-cache"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lockfile", "a-atime", "a-cache"]


def test_the_least_recently_used_entries_beyond_the_cap_are_dropped(tmp_path):
    """JAX lists every entry before each write, so the folder is cut to its newest entries;
    files that are not JAX's entries stay."""
    for name, nanoseconds in (("old", 5), ("new", 300), ("mid", 70)):
        (tmp_path / f"{name}-cache").write_bytes(b"x")
        (tmp_path / f"{name}-atime").write_bytes(nanoseconds.to_bytes(8, "little"))
    (tmp_path / "notes.txt").write_text("the user's")
    assert drop_orphan_entries(tmp_path, max_entries=2) == ["old-cache"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".lockfile", "mid-atime", "mid-cache", "new-atime", "new-cache", "notes.txt"]


def test_the_compile_time_bar_is_read_from_the_environment(tmp_path, monkeypatch):
    import jax
    import pytest

    monkeypatch.setenv("JAXDIAG_COMPILATION_CACHE_MIN_SECONDS", "soon")
    with pytest.raises(ValueError, match=r"MIN_SECONDS: expected seconds, found 'soon'"):
        enable_compilation_cache(tmp_path)
    before = jax.config.jax_persistent_cache_min_compile_time_secs
    monkeypatch.setenv("JAXDIAG_COMPILATION_CACHE_MIN_SECONDS", "0.75")
    try:
        assert enable_compilation_cache(tmp_path) == tmp_path
        assert jax.config.jax_persistent_cache_min_compile_time_secs == 0.75
    finally:  # back to the suite's own cache
        monkeypatch.setenv("JAXDIAG_COMPILATION_CACHE_MIN_SECONDS", str(before))
        enable_compilation_cache()
