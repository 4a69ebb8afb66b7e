"""Sandbox start-to-result latency and PII-removal throughput. Prints figures; asserts nothing.

Run: .venv/bin/python benchmarks/bench_sandbox.py
"""

from __future__ import annotations

import statistics
import time

from mycel_subnet.privacy import remove_pii
from mycel_subnet.sandbox import SandboxStatus, run_python, run_tests

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


def bench_sandbox() -> None:
    code = "def add(a, b):\n    return a + b\n"
    latencies = []
    for _ in range(RUNS):
        start = time.perf_counter()
        result = run_python(code, entrypoint="add", args_json=[1, 2])
        latencies.append(time.perf_counter() - start)
        assert result.status is SandboxStatus.OK and result.returned == 3
    print(f"sandbox run_python trivial fn ({RUNS} runs, layers={','.join(result.layers)}):")
    median, p95 = statistics.median(latencies) * 1000, _percentile(latencies, 0.95) * 1000
    print(f"  median {median:.1f} ms, p95 {p95:.1f} ms")
    cases = [([i, i], 2 * i) for i in range(100)]
    start = time.perf_counter()
    tests = run_tests(code, "add", cases)
    took = (time.perf_counter() - start) * 1000
    print(f"  run_tests 100 cases in one process: {took:.1f} ms, passed {tests.passed}")


def bench_pii() -> None:
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
    bench_sandbox()
    bench_pii()
