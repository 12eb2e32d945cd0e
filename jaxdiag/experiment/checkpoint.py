"""Orbax checkpoints of the train state plus a JSON record, in the run folder."""

import json
import warnings
from pathlib import Path
from typing import Any

import jax
import orbax.checkpoint as ocp

from jaxdiag.experiment.run_folder import set_aside


class Checkpointer:
    """Saves and restores ``(state, record)`` pairs by step under ``directory``.

    ``state`` is any pytree of arrays (a TrainState); ``record`` a JSON-able dict (the
    history so far). Orbax writes each step to a temporary folder and renames it when
    complete, so a run killed mid-save leaves the previous checkpoint intact.
    """

    def __init__(self, directory: str | Path, max_to_keep: int = 2):
        options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True,
                                               enable_async_checkpointing=False)
        self.directory = Path(directory).absolute()
        self._manager = ocp.CheckpointManager(self.directory, options=options)

    def latest_step(self) -> int | None:
        return self._manager.latest_step()

    def save(self, step: int, state: Any, record: dict) -> None:
        """Saves synchronously, so that a failed write (a full disk) raises here, in the
        caller's thread; ``record`` is copied, so the caller may change it afterwards."""
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

    def restore_latest(self, like: Any = None) -> tuple[int, Any, dict] | None:
        """``(step, state, record)`` of the newest checkpoint that restores, or None when none
        does. A checkpoint that fails to restore (damaged files, a foreign structure) is set
        aside as ``<step>.damaged`` beside the others, with one warning, and the one before
        it is tried: nothing is deleted."""
        for step in sorted(self._manager.all_steps(), reverse=True):
            try:
                return (step, *self.restore(step, like))
            except Exception as e:  # TensorStore, JSON and structure errors of damaged files
                aside = set_aside(self.directory / str(step))
                self._manager.reload()
                warnings.warn(f"checkpoint {aside.parent / str(step)} does not restore "
                              f"({type(e).__name__}); set aside as {aside.name}, trying the "
                              "one before it.", stacklevel=2)
        return None

    def close(self) -> None:
        """Waits for saves in flight, then releases the manager."""
        self._manager.wait_until_finished()
        self._manager.close()
