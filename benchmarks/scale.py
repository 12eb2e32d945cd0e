"""How `jaxdiag run` grows with the data: each phase's wall time and the peak memory, for n
from the digits to 1,000,000 examples and 64 to 3,072 features, with each phase's growth
exponent in n.

    python benchmarks/scale.py                       # n up to 201,264 (about 6 minutes)
    python benchmarks/scale.py --sizes 1797x64 17970x64 53910x784
    python benchmarks/scale.py --sizes 1000000x784   # 3.1 GB of float32

The data are of the digits' kind: the 1,797 digits tiled to n examples with Gaussian noise
(sd 1 on the 0-16 scale), upsampled to 28 x 28 (784 features) or 32 x 32 x 3 (3,072) by
nearest neighbours, saved as an ``.npz`` once per size under ``--data-dir``. Each size runs
the default config (``jaxdiag run --set data.source=FILE``, report included) in a fresh
process sharing one compilation cache (with ``--warm``, a first run at each size warms it and
the table times the second), and reads the phases from its ``report.json``. Peak memory is
the child's peak RSS; the memory rule is 1.5 GB plus twice the data. The exponent of a phase
is the slope of log time against log n between the two largest sizes of one feature count.
"""

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from jaxdiag.data import load_digits

DEFAULT_SIZES = ("1797x64", "17970x64", "53910x64", "53910x784", "201264x784")


def digits_like(n: int, features: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n examples of the digits tiled with noise, as (n, features) float32 images flattened
    from 8 x 8, 28 x 28 or 32 x 32 x 3."""
    digits = load_digits()
    base = digits.x.reshape(len(digits.x), 8, 8)
    rng = np.random.default_rng(seed)
    index = np.arange(n) % len(base)
    side = {64: 8, 784: 28, 3072: 32}[features]
    rows = (np.arange(side) * 8) // side  # nearest neighbour upsampling
    x = np.empty((n, side, side, 3) if features == 3072 else (n, side, side), np.float32)
    for start in range(0, n, 50_000):  # in blocks: the noise of 1e6 x 3072 would not fit
        block = base[index[start:start + 50_000]][:, rows][:, :, rows]
        if features == 3072:
            block = np.repeat(block[..., None], 3, axis=-1)
        x[start:start + 50_000] = block + rng.normal(0, 1, block.shape).astype(np.float32)
    return x.reshape(n, -1), digits.y[index].astype(np.int32)


def data_file(n: int, features: int, folder: Path) -> Path:
    path = folder / f"digits_like_{n}x{features}.npz"
    if not path.exists():
        x, y = digits_like(n, features)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".npz", delete=False) as f:
            np.savez(f, x=x, y=y)
        os.replace(f.name, path)
    return path


def run_once(path: Path, runs_dir: Path, env: dict) -> tuple[float, float, dict]:
    """(wall seconds, peak RSS GB, phases) of one `jaxdiag run` on ``path`` in a fresh
    process."""
    name = f"scale-{path.stem}-{time.monotonic_ns()}"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "jaxdiag.cli", "run", "--set",
                    f"data.source={json.dumps(str(path))}", "--name", name, "--runs-dir",
                    str(runs_dir), "--no-progress"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    report = json.loads((runs_dir / name / "report.json").read_text())
    # RUSAGE_CHILDREN keeps the largest child so far: a smaller run after a larger one reads
    # the larger's peak, so sizes run in increasing order
    phases = {k: v["seconds"] for k, v in report["phases"].items()}
    phases["start, report"] = wall - sum(phases.values())  # imports, report.html
    peak_gb = max(peak, before) * 1024 / 1e9
    job_peaks = {k: v["peak_rss_mb"] * 2**20 / 1e9 for k, v in report["phases"].items()}
    at = next(k for k, v in job_peaks.items() if v >= max(job_peaks.values()) - 1e-9)
    where = at if peak_gb <= max(job_peaks.values()) * 1.02 else "start, report"
    return wall, peak_gb, phases, where


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=list(DEFAULT_SIZES),
                        help="examples x features, e.g. 201264x784")
    parser.add_argument("--data-dir", default=Path(tempfile.gettempdir()) / "jaxdiag-scale",
                        type=Path, help="where the synthetic .npz files are kept")
    parser.add_argument("--warm", action="store_true",
                        help="time a second run of each size, on a warm compilation cache")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    sizes = sorted((tuple(int(v) for v in s.split("x")) for s in args.sizes),
                   key=lambda s: (s[0] * s[1], s))
    cache = tempfile.mkdtemp(prefix="jaxdiag-scale-cache-")
    env = {**os.environ, "JAXDIAG_COMPILATION_CACHE": cache}
    rows = []
    with tempfile.TemporaryDirectory() as runs:
        for n, d in sizes:
            path = data_file(n, d, args.data_dir)
            if args.warm:
                run_once(path, Path(runs), env)  # warms the cache for this shape
            wall, peak, phases, where = run_once(path, Path(runs), env)
            data_gb = n * d * 4 / 1e9
            rows.append((n, d, data_gb, wall, peak, phases, where))
            print(f"{n} x {d}: {wall:.1f} s, peak {peak:.2f} GB", file=sys.stderr, flush=True)
    names = list(rows[0][5])
    print(f"jaxdiag run, default config, {'second' if args.warm else 'first'} run of each size"
          f" ({os.cpu_count()} CPU cores)\n")
    print("examples x features | data GB | wall s | peak GB | within 1.5 + 2 x data | peak in | "
          + " | ".join(names))
    print(" | ".join(["---"] * (6 + len(names))))
    for n, d, data_gb, wall, peak, phases, where in rows:
        print(f"{n:,} x {d} | {data_gb:.2f} | {wall:.1f} | {peak:.2f} | "
              f"{'yes' if peak <= 1.5 + 2 * data_gb else 'NO'} | {where} | "
              + " | ".join(f"{phases.get(k, 0):.1f}" for k in names))
    print("\ngrowth exponent in n (log time ratio / log n ratio of the two largest n of each "
          "feature count; 1 = linear):")
    for d in sorted({r[1] for r in rows}):
        same = [r for r in rows if r[1] == d]
        if len(same) < 2:
            continue
        (n0, *_, p0, _), (n1, *_, p1, _) = same[-2], same[-1]
        slopes = {k: math.log(max(p1[k], 1e-3) / max(p0[k], 1e-3)) / math.log(n1 / n0)
                  for k in names if max(p0[k], p1[k]) >= 0.5}
        print(f"  {d} features, n {n0:,} -> {n1:,}: " + ", ".join(
            f"{k} {v:.2f}" for k, v in slopes.items()))


if __name__ == "__main__":
    main()
