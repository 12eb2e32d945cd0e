"""Trials in SQLite (standard library): hyperparameters, per-rung metrics and status.

A population is written in two transactions: its trials as "running" before training, and
all their results at once after. A sweep killed in between leaves a population of running
trials, which the resumed sweep trains again under the same ids; a finished trial is never
lost or written twice.
"""

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

STATUSES = ("running", "complete", "stopped", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS trials (
  id INTEGER PRIMARY KEY,
  population INTEGER NOT NULL,
  hparams TEXT NOT NULL,
  status TEXT NOT NULL,
  dev_error REAL,
  dev_loss REAL,
  steps INTEGER,
  failed_at INTEGER
);
CREATE TABLE IF NOT EXISTS rungs (
  trial INTEGER NOT NULL REFERENCES trials(id),
  step INTEGER NOT NULL,
  dev_error REAL,
  dev_loss REAL,
  PRIMARY KEY (trial, step)
);
"""


class TrialStore:
    """The trials of one sweep, in ``path`` (created when missing)."""

    def __init__(self, path: str | Path):
        """Raises ValueError naming ``path`` when it is not a sound trial store."""
        self.path = Path(path)
        self._db = sqlite3.connect(self.path, isolation_level=None)  # explicit transactions
        try:
            self._db.executescript(_SCHEMA)
            (check,) = self._db.execute("PRAGMA quick_check").fetchone()
            if check != "ok":
                raise sqlite3.DatabaseError(check)
        except sqlite3.DatabaseError as e:
            self._db.close()
            raise ValueError(f"{self.path}: damaged trial store ({e}); start the sweep over "
                             "with --fresh (its trials are lost) or put back a sound copy."
                             ) from None

    def close(self) -> None:
        self._db.close()

    def population_status(self, population: int) -> str | None:
        """"complete" when every trial of ``population`` has a result, "running" when some
        do not, None when it was never started."""
        rows = self._db.execute("SELECT status FROM trials WHERE population = ?",
                                (population,)).fetchall()
        if not rows:
            return None
        return "running" if any(s == "running" for (s,) in rows) else "complete"

    def start_population(self, population: int, points: Sequence[dict[str, Any]]) -> list[int]:
        """Records ``points`` as running trials of ``population``; returns their ids.

        A population left running by a killed sweep keeps its ids when asked again for the
        same points.

        Raises:
          ValueError: the population finished already, or was started with other points.
        """
        rows = self._db.execute(
            "SELECT id, hparams, status FROM trials WHERE population = ? ORDER BY id",
            (population,)).fetchall()
        encoded = [json.dumps(p, sort_keys=True) for p in points]
        if rows:
            if any(status != "running" for _, _, status in rows):
                raise ValueError(f"population {population}: already finished.")
            if [h for _, h, _ in rows] != encoded:
                raise ValueError(f"population {population}: started before with other points "
                                 "(was the sweep config changed?).")
            return [i for i, _, _ in rows]
        self._db.execute("BEGIN")
        (first,) = self._db.execute("SELECT COALESCE(MAX(id), -1) + 1 FROM trials").fetchone()
        ids = list(range(first, first + len(points)))
        self._db.executemany(
            "INSERT INTO trials (id, population, hparams, status) VALUES (?, ?, ?, 'running')",
            [(i, population, h) for i, h in zip(ids, encoded, strict=True)])
        self._db.execute("COMMIT")
        return ids

    def finish_population(self, results: Sequence[dict[str, Any]]) -> None:
        """Writes every trial's result in one transaction.

        Each result: {"id", "status" (complete / stopped / failed), "dev_error", "dev_loss",
        "steps", "failed_at", "rungs": {step: (dev_error, dev_loss)}}.
        """
        self._db.execute("BEGIN")
        for r in results:
            if r["status"] not in STATUSES[1:]:
                self._db.execute("ROLLBACK")
                raise ValueError(f"status: expected one of {STATUSES[1:]}, found {r['status']!r}.")
            self._db.execute(
                "UPDATE trials SET status = ?, dev_error = ?, dev_loss = ?, steps = ?, "
                "failed_at = ? WHERE id = ? AND status = 'running'",
                (r["status"], _real(r["dev_error"]), _real(r["dev_loss"]), r["steps"],
                 r["failed_at"], r["id"]))
            self._db.executemany(
                "INSERT INTO rungs (trial, step, dev_error, dev_loss) VALUES (?, ?, ?, ?)",
                [(r["id"], step, _real(e), _real(loss)) for step, (e, loss) in r["rungs"].items()])
        self._db.execute("COMMIT")

    def trials(self) -> list[dict[str, Any]]:
        """Every trial with its hyperparameters, result and rungs, in id order."""
        rungs: dict[int, dict[int, tuple]] = {}
        for trial, step, error, loss in self._db.execute(
                "SELECT trial, step, dev_error, dev_loss FROM rungs ORDER BY trial, step"):
            rungs.setdefault(trial, {})[step] = (error, loss)
        return [{"id": i, "population": p, "hparams": json.loads(h), "status": s,
                 "dev_error": e, "dev_loss": loss, "steps": n, "failed_at": f,
                 "rungs": rungs.get(i, {})}
                for i, p, h, s, e, loss, n, f in self._db.execute(
                    "SELECT id, population, hparams, status, dev_error, dev_loss, steps, "
                    "failed_at FROM trials ORDER BY id")]


def _real(value: float) -> float | None:
    """NaN as SQL NULL (SQLite has no NaN)."""
    return None if value is None or value != value else float(value)
