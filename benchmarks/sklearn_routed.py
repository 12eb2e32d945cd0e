"""scikit-learn's own metric tests, routed to jaxdiag: how many pass, and why the others fail.

Copies ``sklearn/metrics/tests/test_ranking.py`` and ``test_classification.py`` from the
installed scikit-learn, rebinds the public names that ``jaxdiag.metrics`` also has (and
``UndefinedMetricWarning`` once jaxdiag has its own) to jaxdiag's, with outputs converted to
NumPy (0-d results as Python numbers, as sklearn returns them), and runs them with pytest in
float64 mode and in JAX's default float32 mode. In float32 mode the numeric assertions of the
copied files (``assert_allclose`` and its kin, ``pytest.approx``) are loosened to 1e-5, the
precision jaxdiag promises there; a plain ``==`` of two floats cannot be, and fails on float32
rounding. A test counts as routed when it called a jaxdiag function; a test that fails
only on the wording of an error message (``pytest.raises(match=...)``) counts as a pass.

    python benchmarks/sklearn_routed.py [--mode float64|float32|both] [--show N]

Prints, per file and mode, the routed tests, passes, wording-only failures and the pass
rate, then the failures by kind (numbers differ, raised where sklearn does not, did not raise,
did not warn, other) with a line each.
"""

import argparse
import ast
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

import sklearn

import jaxdiag.metrics

FILES = ("test_ranking.py", "test_classification.py")
ROUTED = sorted(name for name in jaxdiag.metrics.__all__
                if hasattr(sklearn.metrics, name) or name == "UndefinedMetricWarning")

ROUTING = '''
# ---- routed to jaxdiag by benchmarks/sklearn_routed.py ----
import functools as _functools
import jax as _jax
import numpy as _np
import jaxdiag.metrics as _jd
import _routing_log

def _to_numpy(value):
    if isinstance(value, tuple):
        return tuple(_to_numpy(v) for v in value)
    if isinstance(value, list):
        return [_to_numpy(v) for v in value]
    if isinstance(value, _jax.Array):  # 0-d: a Python number, as sklearn returns
        value = _np.asarray(value)
        return value.item() if value.ndim == 0 else value
    return value

def _routed(name):
    function = getattr(_jd, name)
    @_functools.wraps(function)
    def call(*args, **kwargs):
        _routing_log.CALLED.add(name)
        return _to_numpy(function(*args, **kwargs))
    return call

for _name in {routed!r}:
    if _name == "UndefinedMetricWarning":
        globals()[_name] = getattr(_jd, _name)
    elif _name in globals():
        globals()[_name] = _routed(_name)

if not _jax.config.jax_enable_x64:  # float32: jaxdiag promises sklearn's numbers to 1e-5
    import numpy.testing as _npt
    def assert_allclose(actual, desired, rtol=1e-7, atol=0, **kwargs):
        _npt.assert_allclose(actual, desired, rtol=max(rtol, 1e-5), atol=max(atol, 1e-5),
                             **kwargs)
    def assert_almost_equal(actual, desired, decimal=7, **kwargs):
        _npt.assert_allclose(actual, desired, rtol=1e-5, atol=max(1.5 * 10.0**-decimal, 1e-5))
    assert_array_almost_equal = assert_almost_equal
    def assert_array_equal(actual, desired, *args, **kwargs):
        a, d = _np.asarray(actual), _np.asarray(desired)
        if a.dtype.kind == "f" or d.dtype.kind == "f":
            _npt.assert_allclose(a, d, rtol=1e-5, atol=1e-5)
        else:
            _npt.assert_array_equal(actual, desired, *args, **kwargs)

    class _LooserPytest:
        """pytest, with approx's relative tolerance at least 1e-5."""
        def __getattr__(self, name):
            return getattr(_pytest_module, name)
        @staticmethod
        def approx(expected, rel=None, abs=None, **kwargs):
            return _pytest_module.approx(expected, rel=max(rel or 0, 1e-5), abs=abs, **kwargs)

    import pytest as _pytest_module
    pytest = _LooserPytest()
# ---- end of routing ----
'''

CONFTEST = '''
import pytest
import _routing_log

@pytest.fixture(autouse=True)
def _routed(record_property):
    _routing_log.CALLED.clear()
    yield
    record_property("routed", ",".join(sorted(_routing_log.CALLED)))
'''


def routed_copy(source: Path, target: Path) -> None:
    """``source`` with the routing block inserted after its last top-level import."""
    text = source.read_text()
    tree = ast.parse(text)
    last = max(node.end_lineno for node in tree.body
               if isinstance(node, ast.Import | ast.ImportFrom))
    lines = text.splitlines(keepends=True)
    target.write_text("".join(lines[:last]) + ROUTING.format(routed=ROUTED)
                      + "".join(lines[last:]))


def kind_of(message: str) -> str:
    if "Regex pattern did not match" in message:
        return "wording"
    if "DID NOT RAISE" in message:
        return "did not raise"
    if "DID NOT WARN" in message or "Failed: DID NOT WARN" in message:
        return "did not warn"
    if any(s in message for s in ("Not equal to tolerance", "not almost equal", "Mismatched",
                                  "Arrays are not equal")):
        return "numbers differ"
    if "jaxdiag" in message:
        return "raised where sklearn does not"
    return "other"


def run(mode: str, folder: Path) -> list[dict]:
    """One pytest run of the routed copies; one record per test."""
    report = folder / f"report-{mode}.xml"
    env = dict(os.environ, PYTHONPATH=str(folder), JAX_PLATFORMS="cpu",
               JAX_ENABLE_X64="1" if mode == "float64" else "0")
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "auto",
                    "-p", "sklearn.conftest", "-o", "addopts=", "-W", "ignore",
                    f"--junitxml={report}", "-o", "junit_family=xunit1",
                    *[str(folder / name) for name in FILES]],
                   cwd=folder, env=env, capture_output=True, text=True)
    records = []
    for case in ElementTree.parse(report).iter("testcase"):
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        skipped = case.find("skipped") is not None
        message = "" if failure is None else (failure.get("message") or "") + "\n" + (
            failure.text or "")
        records.append({"file": case.get("file") or case.get("classname"),
                        "test": case.get("name"), "routed": bool(properties.get("routed")),
                        "skipped": skipped, "failed": failure is not None,
                        "kind": kind_of(message) if failure is not None else None,
                        "message": (failure.get("message") or "").splitlines()[0][:160]
                        if failure is not None and failure.get("message") else ""})
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["float64", "float32", "both"], default="both")
    parser.add_argument("--show", type=int, default=200, help="failures listed per mode")
    args = parser.parse_args()
    source = Path(sklearn.__file__).parent / "metrics" / "tests"
    print(f"scikit-learn {sklearn.__version__}; routed names: {', '.join(ROUTED)}")
    with tempfile.TemporaryDirectory(prefix="sklearn-routed-") as tmp:
        folder = Path(tmp)
        (folder / "_routing_log.py").write_text("CALLED = set()\n")
        (folder / "conftest.py").write_text(CONFTEST)
        for name in FILES:
            routed_copy(source / name, folder / name)
        modes = ["float64", "float32"] if args.mode == "both" else [args.mode]
        print("mode | file | routed tests | pass | wording only | pass rate (wording = pass)")
        print("--- | --- | --- | --- | --- | ---")
        failures = {}
        for mode in modes:
            records = [r for r in run(mode, folder) if r["routed"] and not r["skipped"]]
            for name in FILES:
                mine = [r for r in records if name.removesuffix(".py") in r["file"]]
                passed = sum(not r["failed"] for r in mine)
                wording = sum(r["kind"] == "wording" for r in mine)
                rate = (passed + wording) / len(mine) if mine else float("nan")
                print(f"{mode} | {name} | {len(mine)} | {passed} | {wording} | {rate:.1%}")
            failures[mode] = [r for r in records if r["failed"] and r["kind"] != "wording"]
        for mode, failed in failures.items():
            counts = Counter(r["kind"] for r in failed)
            print(f"\n{mode}: {len(failed)} failures: "
                  + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
            for r in sorted(failed, key=lambda r: (r["kind"], r["test"]))[:args.show]:
                print(f"  [{r['kind']}] {r['test']}: {r['message']}")


if __name__ == "__main__":
    main()
