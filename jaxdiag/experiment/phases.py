"""Where a job's time and memory go: wall seconds of each phase, and the process's peak
resident memory when the phase ended (``report.json`` ``phases``; ``benchmarks/scale.py``
reads them to fit each phase's growth with the data)."""

import resource
import sys
import time


def peak_rss_bytes() -> int:
    """The process's peak resident set size so far, in bytes (``getrusage``; Linux counts
    KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


class PhaseTimes:
    """``mark(name)`` ends a phase begun at the previous mark (or at construction)."""

    def __init__(self) -> None:
        self._last = time.perf_counter()
        self.phases: dict[str, dict[str, float]] = {}

    def mark(self, name: str) -> None:
        now = time.perf_counter()
        seconds = now - self._last + self.phases.get(name, {}).get("seconds", 0.0)
        self.phases[name] = {"seconds": round(seconds, 3),
                             "peak_rss_mb": round(peak_rss_bytes() / 2**20, 1)}
        self._last = now

    def as_dict(self) -> dict[str, dict[str, float]]:
        """{phase: {"seconds": wall seconds, "peak_rss_mb": peak RSS at its end, MiB}}."""
        return dict(self.phases)
