"""The run folder: everything a run writes lives under ``<runs_dir>/<name>/``.

One rule for every command that writes a folder (``run``, ``train``, a study, ``sweep``,
``report``):

- ``name`` is one folder name (``require_folder_name``);
- a folder jaxdiag made carries its marker, ``.jaxdiag-run`` (JSON: the kind of folder and
  the jaxdiag version); jaxdiag writes only into a marked folder, or an empty or new one that
  it then marks;
- ``--fresh`` removes, inside a marked folder, only the entries jaxdiag writes
  (``JAXDIAG_ENTRIES``, and folders of marked run folders such as a study's arms); it keeps
  anything else, never follows a symbolic link, and refuses a run folder that is one;
- one process at a time holds a run folder: ``.jaxdiag-lock`` is locked with ``flock`` and
  names its holder (pid, host, command, since when). The operating system releases the lock
  when its holder dies, so a stale lock file never blocks a run.
"""

import contextlib
import fcntl
import json
import os
import shutil
import socket
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jaxdiag import __version__
from jaxdiag.experiment.config import (
    config_to_dict,
    dict_to_toml,
    first_difference,
    load_config,
    read_config_file,
    require_folder_name,
)

CONFIG_FILE = "config.toml"
MARKER_FILE = ".jaxdiag-run"
LOCK_FILE = ".jaxdiag-lock"
DAMAGED_SUFFIX = ".damaged"
KINDS = ("run", "train", "study", "sweep")
# Every top-level entry that a command writes in its run folder; ``--fresh`` removes these
# (with ``.tmp`` and ``.damaged`` siblings) and nothing else. tests/test_experiment_run_folder.py
# checks that each command writes nothing outside this list.
JAXDIAG_ENTRIES = frozenset({
    CONFIG_FILE, "report.json", "report.html", "predictions.npz", "worst_mistakes.png",
    "figures", "checkpoints", "tensorboard", "search", "summary.json", "normalizer.npz",
    "study.json", "sweep.json", "trials.sqlite", "trials.sqlite-journal",
})


class RunFolderBusy(ValueError):
    """Another process holds the run folder."""


@contextlib.contextmanager
def atomic_target(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to, renamed to ``path`` when the block ends,
    so a kill never leaves half a file; removed (it is ours) when the block raises."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, content: str | bytes) -> None:
    """Writes ``content`` (text, or bytes) to ``path`` through a temporary file
    (``atomic_target``)."""
    with atomic_target(path) as temporary:
        if isinstance(content, bytes):
            temporary.write_bytes(content)
        else:
            temporary.write_text(content)


def set_aside(path: Path) -> Path:
    """Renames the damaged file or folder ``path`` to ``<path>.damaged`` (``.damaged-2`` ...
    when taken) beside it and returns the new path; nothing is deleted."""
    target = path.with_name(path.name + DAMAGED_SUFFIX)
    number = 2
    while target.exists() or target.is_symlink():
        target = path.with_name(f"{path.name}{DAMAGED_SUFFIX}-{number}")
        number += 1
    os.replace(path, target)
    return target


def read_marker(run_dir: Path) -> dict | None:
    """The marker of ``run_dir`` ({"kind", "jaxdiag"}), or None when it carries none."""
    path = run_dir / MARKER_FILE
    if path.is_symlink() or not path.is_file():
        return None
    try:
        marker = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError):
        return None
    return marker if isinstance(marker, dict) and marker.get("kind") in KINDS else None


def written_by_jaxdiag(entry: Path) -> bool:
    """Whether ``--fresh`` may remove ``entry``: a name jaxdiag writes, a temporary or
    set-aside copy of one, or a real folder holding only marked run folders (a study's arm)."""
    name = entry.name
    for suffix in (".tmp", DAMAGED_SUFFIX):
        if suffix in name:
            name = name[:name.index(suffix)]
    if name in JAXDIAG_ENTRIES:
        return True
    if entry.is_symlink() or not entry.is_dir():
        return False
    children = list(entry.iterdir())
    return bool(children) and all(not c.is_symlink() and c.is_dir() and read_marker(c)
                                  for c in children)


def _remove(entry: Path) -> None:
    """Removes ``entry``; a symbolic link is unlinked, never followed."""
    if entry.is_symlink() or not entry.is_dir():
        entry.unlink()
    else:
        shutil.rmtree(entry)


def _empty_for_fresh(run_dir: Path) -> list[str]:
    """Removes what jaxdiag wrote in ``run_dir``; returns the names it kept."""
    kept = []
    for entry in sorted(run_dir.iterdir()):
        if entry.name in (MARKER_FILE, LOCK_FILE):
            continue
        if written_by_jaxdiag(entry):
            _remove(entry)
        else:
            kept.append(entry.name)
    return kept


def _listing(folder: Path, limit: int = 6) -> str:
    names = sorted(p.name for p in folder.iterdir())
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit
                                       else "")


def _holder(lock_path: Path) -> str:
    try:
        owner = json.loads(lock_path.read_text())
        return (f"process {owner['pid']} on host {owner['host']} ({owner['command']}, since "
                f"{owner['since']})")
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


@contextlib.contextmanager
def open_run_folder(runs_dir: str | Path, name: str, kind: str, fresh: bool = False,
                    key: str = "name") -> Iterator[Path]:
    """Opens ``runs_dir/name`` for a command of ``kind`` and holds its lock while inside.

    Creates and marks a new (or empty) folder; reopens a marked one of the same kind to
    resume; with ``fresh``, first removes what jaxdiag wrote there (see the module's rule).

    Yields:
      The run folder.

    Raises:
      ValueError: ``name`` is not one folder name (naming config key ``key``); the path is a
        file, a folder jaxdiag did not make, a folder of another kind, or (with ``fresh``) a
        symbolic link; nothing is written or removed then.
      RunFolderBusy: another process holds the folder (named, with its pid and host).
    """
    require_folder_name(name, key)
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {KINDS}, found {kind!r}.")
    run_dir = Path(runs_dir) / name
    where = f"run folder {str(run_dir)!r}"
    if run_dir.is_symlink() and fresh:
        raise ValueError(f"{where}: --fresh does not follow symbolic links; found a link to "
                         f"{os.readlink(run_dir)!r}. Remove the link or pass its target's "
                         "parent as --runs-dir.")
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"{where}: expected a folder, found a file; choose another name "
                         f"(config key {key!r}, or --name).")
    if run_dir.is_dir():
        marker = read_marker(run_dir)
        if marker is None and any(p.name != LOCK_FILE for p in run_dir.iterdir()):
            raise ValueError(
                f"{where}: expected a folder made by jaxdiag (with its {MARKER_FILE} marker) "
                f"or an empty one, found a folder it did not make ({_listing(run_dir)}); "
                f"jaxdiag writes and removes nothing there. Choose another name (config key "
                f"{key!r}, or --name) or --runs-dir.")
    run_dir.mkdir(parents=True, exist_ok=True)
    lock_path = run_dir / LOCK_FILE
    lock = open(lock_path, "a+")  # held until the context exits
    try:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunFolderBusy(
                f"{where}: in use by {_holder(lock_path)}; two processes never share a run "
                "folder. Wait for it to finish, or choose another name.") from None
        marker = read_marker(run_dir)  # read under the lock: no other process changes it now
        if marker is not None and marker["kind"] != kind:
            raise ValueError(f"{where}: expected a {kind} folder, found a {marker['kind']} "
                             f"folder of jaxdiag; choose another name (config key {key!r}).")
        lock.seek(0)
        lock.truncate()
        lock.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                               "command": f"jaxdiag {kind}",
                               "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")}))
        lock.flush()
        if fresh:
            kept = _empty_for_fresh(run_dir)
            if kept:
                warnings.warn(f"{where}: --fresh kept {', '.join(kept)}: jaxdiag did not write "
                              "them.", stacklevel=3)
        if marker is None:
            write_atomic(run_dir / MARKER_FILE, json.dumps({"kind": kind,
                                                            "jaxdiag": __version__}))
        yield run_dir
    finally:
        lock.close()  # releases the flock; the file stays, so no waiter locks a removed inode


def check_saved_config(run_dir: Path, config: Any) -> None:
    """Writes ``config.toml`` into a new run folder, or checks that the saved one matches.

    ``config`` is a config dataclass, or the resolved dict of a command whose config also has
    free-form tables (a sweep's ``[space]``); either way the file is TOML that the command
    reads back.

    Raises:
      ValueError: the folder holds a run with a different config (naming the first key that
        differs), or a damaged ``config.toml`` (naming it); nothing in it is touched.
    """
    saved = run_dir / CONFIG_FILE
    resolved = config if isinstance(config, dict) else config_to_dict(config)
    if not saved.exists():
        write_atomic(saved, dict_to_toml(resolved))
        return
    try:
        saved_values = (read_config_file(saved) if isinstance(config, dict)
                        else config_to_dict(load_config(saved, cls=type(config))))
    except ValueError as e:
        raise ValueError(f"{saved}: damaged or not a config of this command ({e}); start the "
                         "run over with --fresh, or choose another name.") from None
    difference = first_difference(saved_values, resolved)
    if difference:
        raise ValueError(
            f"run folder {str(run_dir)!r} holds a run with another config (first difference: "
            f"{difference}); choose another name (--name) or start it over (--fresh).")


def read_json(path: Path, what_to_do: str) -> Any:
    """The JSON in ``path``, a file jaxdiag wrote.

    Raises:
      ValueError: ``path`` is damaged (not UTF-8 JSON), naming it and ``what_to_do``.
    """
    try:
        return json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: damaged ({type(e).__name__}: {e}); {what_to_do}.") from None
