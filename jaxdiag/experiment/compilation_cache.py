"""JAX's persistent compilation cache, on for every jaxdiag command: a program compiled once is
read back from disk by the next process instead of compiled again.

The folder is ``$JAXDIAG_COMPILATION_CACHE`` when set (``off`` switches the cache off), else
``$XDG_CACHE_HOME/jaxdiag/xla`` (``~/.cache/jaxdiag/xla``). JAX keys each entry by the program,
the jaxlib version, the device and the compile options, so a stale entry is never used; the
cache is an LRU of at most ``MAX_BYTES``, and its reads and writes hold a file lock, so that
concurrent processes (pytest-xdist workers, two sweeps) share it safely.
"""

import os
from pathlib import Path

import filelock
import jax

ENVIRONMENT_VARIABLE = "JAXDIAG_COMPILATION_CACHE"
OFF = ("off", "0", "false", "no")
MAX_BYTES = 4 * 2**30
# JAX's LRU cache (jax/_src/lru_cache.py) keeps "<key>-cache" with "<key>-atime" beside it, and
# reads every atime file before each write: one entry without its atime file (a process killed,
# or a write refused, between the two) makes every later write fail with a warning.
CACHE_SUFFIX, ATIME_SUFFIX, LOCK_NAME = "-cache", "-atime", ".lockfile"
MIN_COMPILE_SECONDS = 0.2  # cheaper programs are compiled again rather than read (0 made the
# test suite 52% slower: every tiny program written under the lock; 1.0 left `jaxdiag run`
# at 27 s warm against 21 s)


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/jaxdiag/xla``, or ``~/.cache/jaxdiag/xla``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "jaxdiag" / "xla"


def enable_compilation_cache(directory: str | Path | None = None) -> Path | None:
    """Points JAX's persistent compilation cache at ``directory`` (default: the environment
    variable, then ``default_cache_dir()``) and returns it; None when switched off.

    A folder that cannot be made (read-only home) leaves the cache off with no error: the
    cache only saves time.
    """
    setting = str(directory) if directory is not None else os.environ.get(
        ENVIRONMENT_VARIABLE, "")
    if setting.strip().lower() in OFF:
        return None
    path = Path(setting) if setting.strip() else default_cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
        drop_orphan_entries(path)
    except (OSError, filelock.Timeout):
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_SECONDS)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    jax.config.update("jax_compilation_cache_max_size", MAX_BYTES)  # LRU under a file lock
    return path


def drop_orphan_entries(path: Path) -> list[str]:
    """Removes the cache entries of ``path`` that lack their access-time file, under the
    cache's own lock; returns their names. They are entries JAX wrote halfway."""
    with filelock.FileLock(path / LOCK_NAME, timeout=10):
        orphans = [entry for entry in path.glob(f"*{CACHE_SUFFIX}")
                   if not entry.with_name(entry.name.removesuffix(CACHE_SUFFIX)
                                          + ATIME_SUFFIX).exists()]
        for entry in orphans:
            entry.unlink(missing_ok=True)
    return [entry.name for entry in orphans]
