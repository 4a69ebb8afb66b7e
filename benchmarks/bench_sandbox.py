"""Sandbox start-to-result latency and PII-removal throughput. Prints figures; asserts nothing.

The sandbox part prints the cost of one run before the kernel wall (the in-process layers only,
as the sandbox ran before bwrap and seccomp) and after it (the default), median and p90, the
ratio, and a bare ``python -I -S -c pass`` start for scale. Target: under 100 ms median.

Run: .venv/bin/python benchmarks/bench_sandbox.py [--runs N] [--sandbox-only]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from mycel_subnet.sandbox import SandboxStatus, check_isolation, run_python, run_tests
from mycel_subnet.sandbox.runner import DEFAULT_LIMITS, _Mode, _spawn

RUNS = 20
TEXT = (
    "Hi Alice,\nthe deploy failed again. Logs are on 203.0.113.7, key sk-proj-abcdefghijklmnop"
    "qrstuvwx1234. def handler(event):\n    return {'status': 200, 'body': json.dumps(event)}\n"
    "Call me at +1 415-555-0132 or mail bob.smith@example.com. Card 4111 1111 1111 1111.\n"
    "The function parses the config, retries three times and then raises a TimeoutError.\n"
    "Thanks, Bob\n"
)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


CODE = "def add(a, b):\n    return a + b\n"


def _timed(fn, runs: int) -> list[float]:
    fn()  # warm: the kernel-wall probe and filter build happen once per process
    latencies = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        latencies.append(time.perf_counter() - start)
    return latencies


def _row(label: str, latencies: list[float]) -> float:
    median = _percentile(latencies, 0.5) * 1000
    p90 = _percentile(latencies, 0.9) * 1000
    print(f"  {label:<34} median {median:6.1f} ms   p90 {p90:6.1f} ms")
    return median


def _in_process_only() -> None:
    """One run exactly as before the kernel wall: no bwrap, no seccomp, audit hook only."""
    job = {"code": CODE, "mode": "call", "entrypoint": "add", "inputs": [json.dumps([1, 2])]}
    raw = _spawn(job, DEFAULT_LIMITS, True, _Mode(None, b""))
    assert raw.final == ("OK", ""), raw.final


def _kernel_wall() -> None:
    result = run_python(CODE, entrypoint="add", args_json=[1, 2])
    assert result.status is SandboxStatus.OK and result.returned == 3, result.detail


def _bare() -> None:
    subprocess.run([sys.executable, "-I", "-S", "-c", "pass"], check=True)


def bench_sandbox(runs: int = RUNS) -> None:
    mode = check_isolation()
    print(f"sandbox overhead per run_python of a trivial fn ({runs} runs each, mode={mode}):")
    _row("bare python -I -S -c pass", _timed(_bare, runs))
    before = _row("before: in-process layers only", _timed(_in_process_only, runs))
    after = _row("after: kernel wall + in-process", _timed(_kernel_wall, runs))
    print(f"  ratio after/before {after / before:.2f}x, kernel wall adds {after - before:.1f} ms")
    verdict = "meets" if after < 100 else "MISSES"
    print(f"  {verdict} the 100 ms median target")
    result = run_python(CODE, entrypoint="add", args_json=[1, 2])
    print(f"  layers: {','.join(result.layers)}")
    cases = [([i, i], 2 * i) for i in range(100)]
    start = time.perf_counter()
    tests = run_tests(CODE, "add", cases)
    took = (time.perf_counter() - start) * 1000
    print(f"  run_tests 100 cases in one process: {took:.1f} ms, passed {tests.passed}")


def bench_pii() -> None:
    from mycel_subnet.privacy import remove_pii

    text = TEXT * 10  # a few KB
    start = time.perf_counter()
    first = remove_pii(text)
    load = time.perf_counter() - start
    rounds = 10
    start = time.perf_counter()
    for _ in range(rounds):
        remove_pii(text)
    elapsed = (time.perf_counter() - start) / rounds
    kib = len(text.encode()) / 1024
    print(f"PII removal ({first.engine}, {kib:.1f} KiB text): first call incl. load {load:.2f} s;")
    rate, found = kib / elapsed, len(first.findings)
    print(f"  warm {elapsed * 1000:.1f} ms per call = {rate:.0f} KiB/s, {found} findings")
    start = time.perf_counter()
    for _ in range(rounds):
        remove_pii(text, use_presidio=False)
    regex = (time.perf_counter() - start) / rounds
    print(f"  regex only: {regex * 1000:.1f} ms per call = {kib / regex:.0f} KiB/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS, help="sandbox runs per mode")
    parser.add_argument("--sandbox-only", action="store_true", help="skip the PII benchmark")
    options = parser.parse_args()
    bench_sandbox(max(1, options.runs))
    if not options.sandbox_only:
        bench_pii()
