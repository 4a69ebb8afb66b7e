"""Every benchmark answers `--help` at once (argparse, before any work), and run_all's selection
leaves out the helper scripts that only other benchmarks start or import."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"


def _run_all():
    spec = importlib.util.spec_from_file_location("bench_run_all", BENCH_DIR / "run_all.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


RUN_ALL = _run_all()
BENCHMARKS = RUN_ALL.discover([])


def test_selection_excludes_every_helper() -> None:
    names = {p.name for p in BENCHMARKS}
    assert "bench_bt10_axon.py" in RUN_ALL.HELPERS
    assert not names & RUN_ALL.HELPERS
    assert {"bench_chain.py", "bench_federated.py", "bench_miner_http.py"} <= names


def test_every_script_is_a_benchmark_or_a_listed_helper() -> None:
    # A new helper script must be named in HELPERS, or bench.sh would report it as failed.
    scripts = {p.name for p in BENCH_DIR.glob("*.py")} - {"run_all.py"}
    unlisted = scripts - {p.name for p in BENCHMARKS} - RUN_ALL.HELPERS
    assert not unlisted, f"neither a bench_*.py benchmark nor in run_all.HELPERS: {unlisted}"
    assert scripts >= RUN_ALL.HELPERS, "HELPERS names a script that is gone"


def test_only_refuses_a_helper_by_name() -> None:
    with pytest.raises(SystemExit, match="unknown benchmark"):
        RUN_ALL.discover(["bt10_axon"])


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.stem)
def test_help_answers_without_running_the_benchmark(script: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(script), "--help"],
        cwd=BENCH_DIR.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # argparse's help and nothing else: a benchmark that ignores its flags prints figures here.
    assert done.stdout.startswith("usage: "), done.stdout[:500]
    assert "options:" in done.stdout


def test_quick_mode_reports_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert RUN_ALL.main(["--quick", "--only", "chain", "near_ledger"]) == 0
    out = capsys.readouterr().out
    assert "--quick" in out
    assert "2/2 benchmarks ok" in out
