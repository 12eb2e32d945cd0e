"""JAX's persistent compilation cache, on for every jaxdiag command: a program compiled once is
read back from disk by the next process instead of compiled again.

The folder is ``$JAXDIAG_COMPILATION_CACHE`` when set (``off`` switches the cache off), else
``$XDG_CACHE_HOME/jaxdiag/xla`` (``~/.cache/jaxdiag/xla``). JAX keys each entry by the program,
the jaxlib version, the device and the compile options, so a stale entry is never used; the
cache is an LRU of at most ``MAX_BYTES``, and its reads and writes hold a file lock, so that
concurrent processes (pytest-xdist workers, two sweeps) share it safely. Every program is
cached, however quick to compile (``$JAXDIAG_COMPILATION_CACHE_MIN_SECONDS`` raises the bar):
a warm ``jaxdiag run`` reads ~130 of them back.
"""
import os
from pathlib import Path

import filelock
import jax

ENVIRONMENT_VARIABLE = "JAXDIAG_COMPILATION_CACHE"
MIN_SECONDS_VARIABLE = "JAXDIAG_COMPILATION_CACHE_MIN_SECONDS"
OFF = ("off", "0", "false", "no")
MAX_BYTES = 4 * 2**30
# JAX's LRU cache (jax/_src/lru_cache.py) keeps "<key>-cache" with "<key>-atime" beside it, and
# reads every atime file before each write: one entry without its atime file (a process killed,
# or a write refused, between the two) makes every later write fail with a warning.
CACHE_SUFFIX, ATIME_SUFFIX, LOCK_NAME = "-cache", "-atime", ".lockfile"
# JAX's LRU lists every entry before each write, under the lock: a write costs O(entries), so
# the cache is cut to its newest MAX_ENTRIES when a process enables it.
MAX_ENTRIES = 4000
MIN_COMPILE_SECONDS = 0.0  # a warm `jaxdiag run`: 20 s at 0, 24 s at 0.2 (107 programs
# compiled again), 27 s at 1.0


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
        min_seconds = float(os.environ.get(MIN_SECONDS_VARIABLE, MIN_COMPILE_SECONDS))
    except ValueError:
        raise ValueError(f"${MIN_SECONDS_VARIABLE}: expected seconds, found "
                         f"{os.environ[MIN_SECONDS_VARIABLE]!r}") from None
    try:
        path.mkdir(parents=True, exist_ok=True)
        drop_orphan_entries(path)
    except (OSError, filelock.Timeout):
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", min_seconds)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    jax.config.update("jax_compilation_cache_max_size", MAX_BYTES)  # LRU under a file lock
    return path


def drop_orphan_entries(path: Path, max_entries: int = MAX_ENTRIES) -> list[str]:
    """Removes, under the cache's own lock, the entries of ``path`` that lack their access-time
    file (entries JAX wrote halfway), then the least recently used beyond ``max_entries``;
    returns their names. Only JAX's ``*-cache`` and ``*-atime`` files are touched."""
    with filelock.FileLock(path / LOCK_NAME, timeout=10):
        entries = {entry: entry.with_name(entry.name.removesuffix(CACHE_SUFFIX) + ATIME_SUFFIX)
                   for entry in path.glob(f"*{CACHE_SUFFIX}")}
        orphans = [entry for entry, atime in entries.items() if not atime.exists()]
        kept = sorted((entry for entry in entries if entry not in orphans), reverse=True,
                      key=lambda entry: int.from_bytes(entries[entry].read_bytes(), "little"))
        for entry in orphans + kept[max_entries:]:
            entry.unlink(missing_ok=True)
            entries[entry].unlink(missing_ok=True)
    return [entry.name for entry in orphans + kept[max_entries:]]
