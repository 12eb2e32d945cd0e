"""Orbax checkpoints of the train state plus a JSON record, in the run folder."""

import json
from pathlib import Path
from typing import Any

import jax
import orbax.checkpoint as ocp


class Checkpointer:
    """Saves and restores ``(state, record)`` pairs by step under ``directory``.

    ``state`` is any pytree of arrays (a TrainState); ``record`` a JSON-able dict (the
    history so far). Orbax writes each step to a temporary folder and renames it when
    complete, so a run killed mid-save leaves the previous checkpoint intact.
    """

    def __init__(self, directory: str | Path, max_to_keep: int = 2):
        options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True)
        self._manager = ocp.CheckpointManager(Path(directory).absolute(), options=options)

    def latest_step(self) -> int | None:
        return self._manager.latest_step()

    def save(self, step: int, state: Any, record: dict) -> None:
        """Saves in the background; ``record`` is copied now, so the caller may change it."""
        snapshot = json.loads(json.dumps(record))
        args = ocp.args.Composite(state=ocp.args.StandardSave(state),
                                  record=ocp.args.JsonSave(snapshot))
        self._manager.save(step, args=args)

    def restore(self, step: int, like: Any = None) -> tuple[Any, dict]:
        """The state and record saved at ``step``; ``like`` gives the state's structure (None:
        the saved structure, with tuples and NamedTuples as they were saved: dicts or lists)."""
        abstract = None if like is None else jax.tree.map(ocp.utils.to_shape_dtype_struct, like)
        args = ocp.args.Composite(state=ocp.args.StandardRestore(abstract),
                                  record=ocp.args.JsonRestore())
        restored = self._manager.restore(step, args=args)
        return restored["state"], restored["record"]

    def close(self) -> None:
        """Waits for saves in flight, then releases the manager."""
        self._manager.wait_until_finished()
        self._manager.close()
