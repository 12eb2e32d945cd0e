"""The run folder: everything a run writes lives under ``<runs_dir>/<name>/``."""

import os
import shutil
from pathlib import Path
from typing import Any

from jaxdiag.experiment.config import (
    config_to_dict,
    config_to_toml,
    first_difference,
    load_config,
)

CONFIG_FILE = "config.toml"


def prepare_run_folder(runs_dir: str | Path, config: Any, fresh: bool = False) -> Path:
    """Creates ``runs_dir/config.name`` with ``config.toml``, or reopens it to resume.

    Args:
      runs_dir: parent folder of all runs.
      config: the resolved config of this run (a RunConfig, or any config dataclass with a
        ``name``).
      fresh: delete an existing folder of the same name first.

    Returns:
      The run folder.

    Raises:
      ValueError: the folder holds a run with a different config (naming the first key that
        differs); nothing in it is touched.
    """
    run_dir = Path(runs_dir) / config.name
    if fresh and run_dir.exists():
        shutil.rmtree(run_dir)
    saved = run_dir / CONFIG_FILE
    if saved.exists():
        saved_config = load_config(saved, cls=type(config))
        difference = first_difference(config_to_dict(saved_config), config_to_dict(config))
        if difference:
            raise ValueError(
                f"run folder {str(run_dir)!r} holds a run with another config (first difference: "
                f"{difference}); choose another name (--name) or start it over (--fresh)."
            )
    else:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(saved, config_to_toml(config))
    return run_dir


def write_atomic(path: Path, content: str | bytes) -> None:
    """Writes ``content`` (text, or bytes such as an ``.npz``) to ``path`` through a temporary
    file, so a kill never leaves half a file."""
    temporary = path.with_name(path.name + ".tmp")
    if isinstance(content, bytes):
        temporary.write_bytes(content)
    else:
        temporary.write_text(content)
    os.replace(temporary, path)
