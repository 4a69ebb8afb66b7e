"""Run untrusted Python in a separate, limited process and classify how it ended.

Layers (reported in ``SandboxResult.layers``): a fresh ``python -I -S`` process in its own session
(killed as a group at the deadline), an empty environment, a private temporary working directory,
kernel rlimits, an empty network namespace when the kernel allows it, and always an audit hook
installed by the launcher before the untrusted code runs.

Test outputs are compared here, in the parent: the expected values never enter the sandbox, so a
template that tampers with the interpreter cannot make a failing case pass.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from mycel_subnet.sandbox.isolation import host_netns, make_preexec
from mycel_subnet.sandbox.models import (
    CaseResult,
    SandboxLimits,
    SandboxResult,
    SandboxStatus,
    TestRunResult,
)

LAUNCHER = Path(__file__).with_name("_launcher.py")
DEFAULT_LIMITS = SandboxLimits()
_RESULT_CAP = 4_000_000  # bytes read from the result pipe at most


@dataclass
class _Raw:
    """What came back from one child process, before classification."""

    stdout: bytes
    stdout_size: int
    stderr: bytes
    stderr_size: int
    exit_code: int | None
    timed_out: bool
    duration_s: float
    layers: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    calls: list[object] = field(default_factory=list)
    final: tuple[str, str] | None = None
    result_corrupt: bool = False


def _args_list(args_json: object, what: str) -> str:
    """Normalise call arguments to a JSON list: None -> no args, list/tuple -> positional."""
    if args_json is None:
        args: list[object] = []
    elif isinstance(args_json, (list, tuple)):
        args = list(args_json)
    else:
        args = [args_json]
    try:
        return json.dumps(args, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be JSON-serialisable: {exc}") from None


def _check_code(code: object, entrypoint: object) -> None:
    if not isinstance(code, str):
        raise TypeError(f"code must be a str, got {type(code).__name__}")
    if entrypoint is not None and (
        not isinstance(entrypoint, str) or not entrypoint.isidentifier()
    ):
        raise ValueError(f"entrypoint must be a Python identifier, got {entrypoint!r}")


def _read_capped(path: Path, cap: int) -> tuple[bytes, int]:
    size = path.stat().st_size
    with path.open("rb") as handle:
        return handle.read(cap), size


def _drain(fd: int, sink: bytearray) -> None:
    with os.fdopen(fd, "rb", buffering=0) as pipe:
        while True:
            chunk = pipe.read(65536)
            if not chunk:
                return
            if len(sink) < _RESULT_CAP:
                sink.extend(chunk[: _RESULT_CAP - len(sink)])


def _parse_results(raw: _Raw, data: bytes, nonce: str) -> None:
    """Keep only lines carrying this run's nonce; anything else on the pipe is forged noise."""
    prefix = nonce + " "
    for line in data.decode("utf-8", "replace").splitlines():
        if not line.startswith(prefix):
            if line.strip():
                raw.result_corrupt = True
            continue
        kind, _, body = line[len(prefix) :].partition(" ")
        if kind == "V":
            raw.violations.append(body)
        elif kind == "R":
            word, _, detail = body.partition(" ")
            raw.final = (word, detail)
        elif kind in ("L", "C"):
            try:
                value = json.loads(body)
            except ValueError:
                raw.result_corrupt = True
                continue
            if kind == "L" and isinstance(value, dict):
                if value.get("audit"):
                    raw.layers.append("audit_hook")
                if value.get("netns"):
                    raw.layers.append("netns")
            elif kind == "C":
                raw.calls.append(value)


def _spawn(job: dict, limits: SandboxLimits, isolate_network: bool) -> _Raw:
    root = Path(tempfile.mkdtemp(prefix="mycel-sandbox-"))
    try:
        work, io_dir = root / "work", root / "io"
        work.mkdir(mode=0o700)
        io_dir.mkdir(mode=0o700)
        nonce = secrets.token_hex(16)
        job = {**job, "nonce": nonce, "workdir": str(work), "host_netns": host_netns()}
        (io_dir / "job.json").write_text(json.dumps(job), encoding="utf-8")
        read_fd, write_fd = os.pipe()
        sink = bytearray()
        start = time.monotonic()
        with (
            (io_dir / "job.json").open("rb") as stdin,
            (io_dir / "stdout").open("wb") as stdout,
            (io_dir / "stderr").open("wb") as stderr,
        ):
            try:
                proc = subprocess.Popen(
                    [sys.executable, "-I", "-S", "-u", str(LAUNCHER), str(write_fd)],
                    stdin=stdin,
                    stdout=stdout,
                    stderr=stderr,
                    pass_fds=(write_fd,),
                    cwd=work,
                    env={},
                    start_new_session=True,
                    preexec_fn=make_preexec(limits, isolate_network),
                )
            finally:
                os.close(write_fd)
            reader = threading.Thread(target=_drain, args=(read_fd, sink), daemon=True)
            reader.start()
            timed_out = False
            try:
                proc.wait(timeout=limits.wall_seconds)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            duration = time.monotonic() - start
            reader.join(timeout=2.0)
        out, out_size = _read_capped(io_dir / "stdout", limits.output_bytes)
        err, err_size = _read_capped(io_dir / "stderr", limits.output_bytes)
        raw = _Raw(out, out_size, err, err_size, proc.returncode, timed_out, duration)
        raw.layers = ["process", "rlimits", "private_dir", "empty_env"]
        _parse_results(raw, bytes(sink), nonce)
        return raw
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _signal_name(code: int | None) -> str:
    if code is None or code >= 0:
        return f"exit code {code}"
    try:
        return f"killed by {signal.Signals(-code).name}"
    except ValueError:
        return f"killed by signal {-code}"


def _classify(raw: _Raw, limits: SandboxLimits) -> tuple[SandboxStatus, str]:
    stderr_text = raw.stderr.decode("utf-8", "replace")
    if raw.violations:
        return SandboxStatus.BLOCKED, f"policy violation: {raw.violations[0]}"
    if raw.final is not None and raw.final[0] == "BLOCKED":
        return SandboxStatus.BLOCKED, f"policy violation: {raw.final[1]}"
    if raw.stdout_size > limits.output_bytes or raw.stderr_size > limits.output_bytes:
        size = max(raw.stdout_size, raw.stderr_size)
        return SandboxStatus.OUTPUT_LIMIT, f"output {size} bytes exceeds {limits.output_bytes}"
    if raw.timed_out:
        return SandboxStatus.TIMEOUT, f"wall-clock deadline of {limits.wall_seconds}s exceeded"
    if raw.exit_code in (-signal.SIGXCPU, -signal.SIGKILL) and raw.final is None:
        return SandboxStatus.TIMEOUT, f"CPU limit of {limits.cpu_seconds}s exceeded"
    if raw.final is not None:
        word, detail = raw.final
        if word == "OK":
            return SandboxStatus.OK, "completed"
        if word == "MEMORY":
            return SandboxStatus.MEMORY_LIMIT, f"memory limit of {limits.memory_mb} MB: {detail}"
        if word == "EXCEPTION":
            if "File too large" in detail:
                return SandboxStatus.OUTPUT_LIMIT, f"file size limit: {detail}"
            return SandboxStatus.EXCEPTION, detail
        return SandboxStatus.CRASH, f"unknown launcher status {word!r}"
    if "MemoryError" in stderr_text or "Cannot allocate memory" in stderr_text:
        return SandboxStatus.MEMORY_LIMIT, f"memory limit of {limits.memory_mb} MB"
    return SandboxStatus.CRASH, f"no result reported ({_signal_name(raw.exit_code)})"


def _result(raw: _Raw, limits: SandboxLimits, returned: object = None) -> SandboxResult:
    status, detail = _classify(raw, limits)
    return SandboxResult(
        status=status,
        stdout=raw.stdout.decode("utf-8", "replace"),
        stderr=raw.stderr.decode("utf-8", "replace"),
        exit_code=raw.exit_code,
        duration_s=raw.duration_s,
        detail=detail.replace("\n", " ")[:500],
        returned=returned if status is SandboxStatus.OK else None,
        layers=tuple(raw.layers),
    )


def run_python(
    code: str,
    *,
    entrypoint: str | None = None,
    args_json: object = None,
    limits: SandboxLimits = DEFAULT_LIMITS,
    isolate_network: bool = True,
) -> SandboxResult:
    """Run ``code`` in the sandbox; with ``entrypoint``, call it with ``args_json``.

    ``args_json``: None for no arguments, a list/tuple for positional arguments, anything else
    as the single argument. ``returned`` is the function's JSON-round-tripped return value.
    ``isolate_network=False`` skips the network namespace (the audit hook still blocks sockets).
    """
    _check_code(code, entrypoint)
    if not isinstance(limits, SandboxLimits):
        raise TypeError("limits must be a SandboxLimits")
    job: dict[str, object] = {"code": code, "mode": "exec"}
    if entrypoint is not None:
        job.update(mode="call", entrypoint=entrypoint, inputs=[_args_list(args_json, "args_json")])
    raw = _spawn(job, limits, isolate_network)
    returned = raw.calls[-1] if (entrypoint is not None and raw.calls) else None
    return _result(raw, limits, returned)


def _canonical(value: object, what: str) -> object:
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be JSON-serialisable: {exc}") from None


def run_tests(
    code: str,
    entrypoint: str,
    cases: list[tuple[object, object]],
    limits: SandboxLimits = DEFAULT_LIMITS,
    isolate_network: bool = True,
) -> TestRunResult:
    """Call ``entrypoint`` once per case inside ONE sandbox process; compare here.

    Each case is ``(args, expected)`` with ``args`` as in :func:`run_python`. A case passes when
    the JSON-round-tripped return value equals the JSON-round-tripped expected value.
    """
    _check_code(code, entrypoint)
    if entrypoint is None:
        raise ValueError("entrypoint is required for run_tests")
    if not isinstance(cases, (list, tuple)) or not cases:
        raise ValueError("cases must be a non-empty list of (args, expected) pairs")
    inputs, expected = [], []
    for index, case in enumerate(cases):
        if not isinstance(case, (list, tuple)) or len(case) != 2:
            raise ValueError(f"cases[{index}] must be an (args, expected) pair, got {case!r}")
        inputs.append(_args_list(case[0], f"cases[{index}] args"))
        expected.append(_canonical(case[1], f"cases[{index}] expected"))
    job = {"code": code, "mode": "tests", "entrypoint": entrypoint, "inputs": inputs}
    raw = _spawn(job, limits, isolate_network)
    sandbox = _result(raw, limits)
    by_index: dict[int, dict] = {}
    for call in raw.calls:
        if isinstance(call, dict) and isinstance(call.get("i"), int):
            by_index.setdefault(call["i"], call)
    results = []
    for index, case in enumerate(cases):
        call = by_index.get(index)
        if sandbox.status is SandboxStatus.BLOCKED:
            call = None  # a run that broke policy earns nothing
        if call is None:
            error = "not run: " + sandbox.detail if sandbox.status is not SandboxStatus.OK else ""
            results.append(CaseResult(index, case[0], case[1], error=error or "no result"))
        elif call.get("ok"):
            actual = call.get("value")
            results.append(CaseResult(index, case[0], case[1], actual, actual == expected[index]))
        else:
            results.append(CaseResult(index, case[0], case[1], error=str(call.get("error", ""))))
    return TestRunResult(sandbox=sandbox, cases=tuple(results))
