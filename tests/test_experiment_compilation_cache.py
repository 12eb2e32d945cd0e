"""The persistent compilation cache: what one process compiles, the next reads back."""

import subprocess
import sys
import textwrap

from jaxdiag.experiment.compilation_cache import (
    default_cache_dir,
    drop_orphan_entries,
    enable_compilation_cache,
)

COMPILE = textwrap.dedent("""
    import sys
    import jax
    import jax.numpy as jnp
    from jaxdiag.experiment.compilation_cache import enable_compilation_cache

    hits = []
    jax.monitoring.register_event_listener(
        lambda event, **kw: hits.append(event) if event.endswith("cache_hits") else None)
    assert str(enable_compilation_cache(sys.argv[1])) == sys.argv[1]

    @jax.jit
    def deep(x):  # long enough to compile (about 0.5 s) to pass the cache's threshold
        for i in range(300):
            x = jnp.sin(x) * (i + 1) + jnp.cos(x @ x.T)[:, :4]
        return x

    deep(jnp.ones((4, 4))).block_until_ready()
    print(len(hits))
""")


def test_a_second_process_reads_what_the_first_compiled(tmp_path):
    folder = tmp_path / "cache"
    runs = [subprocess.run([sys.executable, "-c", COMPILE, str(folder)], capture_output=True,
                           text=True, check=True) for _ in range(2)]
    assert [r.stdout.strip() for r in runs] == ["0", "1"], [r.stderr for r in runs]
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
