"""Run every benchmark of the project and print one summary of their figures and ratios.

Each `benchmarks/bench_*.py` runs in its own process (so one benchmark's model or threads never
skew another's), with a time limit. Every line a benchmark prints is a figure; the summary
repeats them under the benchmark's name with its status and wall time.

A benchmark is `benchmarks/bench_*.py` minus HELPERS: scripts that other benchmarks start
(bench_bt10_axon.py runs only inside bench_miner_http.py --compare-bt10, in its own venv) or
import. `--quick` runs every benchmark's `--help` only: a smoke test that each one starts and
parses its flags, in seconds instead of the full run's many minutes.

Run: bash scripts/bench.sh [--only NAME ...] [--timeout SECONDS] [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "WANDB_MODE": "offline",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TOKENIZERS_PARALLELISM": "false",
}
# Not benchmarks of their own: started or imported by the benchmarks above.
HELPERS = frozenset({"adversaries.py", "miner_bench_server.py", "bench_bt10_axon.py"})
QUICK_TIMEOUT_S = 60.0


@dataclass
class Outcome:
    name: str
    status: str  # "ok", "failed (exit N)" or "timed out"
    seconds: float
    lines: list[str]


def discover(only: list[str]) -> list[Path]:
    scripts = sorted(p for p in HERE.glob("bench_*.py") if p.name not in HELPERS)
    if only:
        wanted = {name.removeprefix("bench_").removesuffix(".py") for name in only}
        unknown = wanted - {p.stem.removeprefix("bench_") for p in scripts}
        if unknown:
            known = ", ".join(p.stem.removeprefix("bench_") for p in scripts)
            raise SystemExit(f"run_all: unknown benchmark(s) {sorted(unknown)}; known: {known}")
        scripts = [p for p in scripts if p.stem.removeprefix("bench_") in wanted]
    return scripts


def run_one(script: Path, timeout_s: float, extra_args: tuple[str, ...] = ()) -> Outcome:
    name = script.stem.removeprefix("bench_")
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, str(script), *extra_args],
            cwd=HERE.parent,
            env={**os.environ, **BENCH_ENV, "PYTHONPATH": str(HERE.parent)},
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired as expired:
        output = expired.stdout or ""
        text = output.decode() if isinstance(output, bytes) else output
        return Outcome(name, "timed out", time.perf_counter() - started, text.splitlines())
    seconds = time.perf_counter() - started
    lines = done.stdout.splitlines()
    if done.returncode != 0:
        lines += [f"stderr: {line}" for line in done.stderr.splitlines()[-5:]]
        return Outcome(name, f"failed (exit {done.returncode})", seconds, lines)
    return Outcome(name, "ok", seconds, lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[], help="benchmark names (e.g. chain llm)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per benchmark")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke test: run each benchmark's --help only ({QUICK_TIMEOUT_S:.0f} s limit each)",
    )
    args = parser.parse_args(argv)
    extra = ("--help",) if args.quick else ()
    timeout_s = min(args.timeout, QUICK_TIMEOUT_S) if args.quick else args.timeout
    outcomes = []
    for script in discover(args.only):
        print(f"running {script.name} {' '.join(extra)}...", file=sys.stderr, flush=True)
        outcomes.append(run_one(script, timeout_s, extra))
    mode = " (--quick: each benchmark's --help only)" if args.quick else ""
    print(f"\n=== Mycel benchmark summary{mode} ===")
    for outcome in outcomes:
        print(f"\n[{outcome.name}] {outcome.status}, {outcome.seconds:.1f} s")
        for line in [] if args.quick and outcome.status == "ok" else outcome.lines:
            if line.strip():
                print(f"  {line}")
    failed = [o.name for o in outcomes if o.status != "ok"]
    print(
        f"\n{len(outcomes) - len(failed)}/{len(outcomes)} benchmarks ok"
        + (f"; not ok: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
