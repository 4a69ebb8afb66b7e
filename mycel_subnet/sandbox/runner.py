"""Run untrusted Python in a separate, limited process and classify how it ended.

Two walls. The kernel wall (default, required): bubblewrap namespaces, uid 65534, no
capabilities, no_new_privs, a read-only minimal root (see ``wall.py``) and a seccomp filter
(``seccomp.py``) loaded by the launcher. The in-process wall: an audit hook installed by the
launcher before the untrusted code runs. Around both: a fresh ``python -I -S`` process in its own
session (killed at the deadline), an empty environment, a private temporary working directory and
kernel rlimits. ``SandboxResult.layers`` names the layers the child itself saw in force.

When the kernel wall cannot be set up, every run raises ``SandboxUnavailable`` with the reason,
unless the operator allowed weak isolation (``policy.configure``); then one warning is logged and
the run falls back to the in-process wall (plus seccomp and a network namespace where they work).

Test outputs are compared here, in the parent: the expected values never enter the sandbox, so a
template that tampers with the interpreter cannot make a failing case pass.
"""

from __future__ import annotations

import contextlib
import json
import logging
import marshal
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from mycel_subnet.sandbox import policy
from mycel_subnet.sandbox.isolation import host_netns, make_preexec, rlimit_pairs
from mycel_subnet.sandbox.models import (
    CaseResult,
    SandboxLimits,
    SandboxResult,
    SandboxStatus,
    SandboxUnavailable,
    TestRunResult,
)
from mycel_subnet.sandbox.seccomp import SeccompUnavailable, filter_bpf
from mycel_subnet.sandbox.wall import WORKDIR, Wall, bwrap_argv, locate, write_identity

log = logging.getLogger(__name__)

LAUNCHER = Path(__file__).with_name("_launcher.py")
DEFAULT_LIMITS = SandboxLimits()
_RESULT_CAP = 4_000_000  # bytes read from the result pipe at most
_WEAK_HINT = "set sandbox.allow_weak_isolation to run code with in-process layers only (weaker)"
_WALL_LAYERS = ("bwrap", "namespaces", "ro_root")


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
    started: bool = False  # the launcher reported in (its "L" line arrived)


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
                raw.started = True
                raw.layers.extend(_seen_layers(value))
            elif kind == "C":
                raw.calls.append(value)


def _wait_exit(proc: subprocess.Popen, timeout: float) -> bool:
    """Wait for ``proc`` to exit (without reaping it); True if ``timeout`` passed first.

    A pidfd wakes the moment the child exits; ``Popen.wait(timeout)`` polls with sleeps of up
    to 50 ms, which was most of a short run's cost."""
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return True
        return False
    try:
        return not select.select([pidfd], [], [], timeout)[0]
    finally:
        os.close(pidfd)


def _seen_layers(report: dict) -> list[str]:
    """Layer names from the launcher's own report of what the kernel enforces on it."""
    layers = []
    if report.get("audit"):
        layers.append("audit_hook")
    if report.get("netns"):
        layers.append("netns")
    if report.get("seccomp"):
        layers.append("seccomp")
    if report.get("nnp"):
        layers.append("no_new_privs")
    if report.get("capeff") == "0000000000000000":
        layers.append("no_capabilities")
    if isinstance(report.get("uid"), int) and report["uid"] > 0:
        layers.append("unprivileged_uid")
    return layers


@dataclass(frozen=True)
class _Mode:
    """How one run is isolated: ``wall`` None means the weak, in-process-only mode."""

    wall: Wall | None
    seccomp: bytes


def _command(
    mode: _Mode, work: Path, io_dir: Path, write_fd: int, limits: SandboxLimits, net: bool
):
    """(argv, cwd, preexec) for the child process."""
    if mode.wall is None:
        argv = [sys.executable, "-I", "-S", "-u", str(LAUNCHER), str(write_fd)]
        return argv, work, make_preexec(limits, net)
    argv = bwrap_argv(
        mode.wall,
        workdir=work,
        identity=write_identity(io_dir),
        launcher=LAUNCHER,
        result_fd=write_fd,
        limits=limits,
        isolate_network=True,  # always: a shared netns would expose the host's abstract sockets
    )
    # The launcher sets the rlimits itself (job["rlimits"]): no preexec_fn lets Popen use vfork,
    # which costs the same from a validator with a large heap as from a small one.
    return argv, None, None


def _spawn(
    job: dict, limits: SandboxLimits, isolate_network: bool, mode: _Mode, audit: bool = True
) -> _Raw:
    root = Path(tempfile.mkdtemp(prefix="mycel-sandbox-"))
    try:
        work, io_dir = root / "work", root / "io"
        work.mkdir(mode=0o700)
        io_dir.mkdir(mode=0o700)
        nonce = secrets.token_hex(16)
        job = {
            **job,
            "nonce": nonce,
            "workdir": WORKDIR if mode.wall is not None else str(work),
            "host_netns": host_netns(),
            "audit": audit,
            "seccomp": mode.seccomp.hex(),
            "seccomp_required": mode.wall is not None,
            # bwrap itself forks; seccomp forbids process creation inside, so no RLIMIT_NPROC.
            "rlimits": rlimit_pairs(limits, limit_processes=False) if mode.wall else [],
        }
        # marshal: the launcher reads it without importing json (a third of its start-up).
        job["inputs"] = [json.loads(args) for args in job.get("inputs", [])]
        (io_dir / "job.json").write_bytes(marshal.dumps(job))
        read_fd, write_fd = os.pipe()
        sink = bytearray()
        argv, cwd, preexec = _command(mode, work, io_dir, write_fd, limits, isolate_network)
        start = time.monotonic()
        with (
            (io_dir / "job.json").open("rb") as stdin,
            (io_dir / "stdout").open("wb") as stdout,
            (io_dir / "stderr").open("wb") as stderr,
        ):
            try:
                proc = subprocess.Popen(
                    argv,
                    stdin=stdin,
                    stdout=stdout,
                    stderr=stderr,
                    pass_fds=(write_fd,),
                    cwd=cwd,
                    env={},
                    start_new_session=True,
                    preexec_fn=preexec,
                )
            finally:
                os.close(write_fd)
            reader = threading.Thread(target=_drain, args=(read_fd, sink), daemon=True)
            reader.start()
            try:
                timed_out = _wait_exit(proc, limits.wall_seconds)
            finally:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            duration = time.monotonic() - start
            reader.join(timeout=2.0)
        out, out_size = _read_capped(io_dir / "stdout", limits.output_bytes)
        err, err_size = _read_capped(io_dir / "stderr", limits.output_bytes)
        code = proc.returncode
        if mode.wall is not None and code is not None and 128 < code < 128 + 65:
            code = 128 - code  # bwrap reports "killed by signal N" as exit status 128 + N
        raw = _Raw(out, out_size, err, err_size, code, timed_out, duration)
        raw.layers = ["process", "rlimits", "private_dir", "empty_env"]
        if mode.wall is not None:
            raw.layers.extend(_WALL_LAYERS)
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
    if raw.exit_code == -signal.SIGSYS and raw.final is None:
        return SandboxStatus.BLOCKED, "policy violation: kernel wall refused a system call (SIGSYS)"
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


_PROBE_LIMITS = SandboxLimits(cpu_seconds=2.0, wall_seconds=10.0, memory_mb=256)
_EXPECTED_WALL = frozenset({"seccomp", "no_new_privs", "no_capabilities", "unprivileged_uid"})
_mode_lock = threading.Lock()
_modes: dict[policy.IsolationPolicy, _Mode | str] = {}


def _probe(wall: Wall, program: bytes) -> str:
    """ "" when an empty job runs behind the whole wall, else why it did not."""
    raw = _spawn({"code": "", "mode": "exec"}, _PROBE_LIMITS, True, _Mode(wall, program))
    if raw.final is not None and raw.final[0] == "WALL":
        return f"seccomp: {raw.final[1]}"
    if not raw.started:
        lines = raw.stderr.decode("utf-8", "replace").strip().splitlines()
        said = lines[-1][:300] if lines else "no message"
        return f"bwrap could not start the sandbox ({_signal_name(raw.exit_code)}): {said}"
    missing = sorted((_EXPECTED_WALL | {"netns"}) - set(raw.layers))
    if missing:
        return "kernel wall incomplete, missing: " + ", ".join(missing)
    if raw.final is None or raw.final[0] != "OK":
        return f"probe run failed ({_signal_name(raw.exit_code)})"
    return ""


def _select(pol: policy.IsolationPolicy) -> _Mode | str:
    """The mode for ``pol``: the wall if it works, weak if allowed, else the refusal text."""
    try:
        program = filter_bpf()
        reason = ""
    except SeccompUnavailable as exc:
        program, reason = b"", str(exc)
    if not reason:
        try:
            wall = locate(pol.bwrap_path)
        except SandboxUnavailable as exc:
            reason = str(exc)
        else:
            reason = _probe(wall, program)
            if not reason:
                return _Mode(wall, program)
    if not pol.allow_weak_isolation:
        return f"sandbox kernel wall unavailable: {reason}; {_WEAK_HINT}"
    log.warning(
        "sandbox kernel wall unavailable (%s); running untrusted code with in-process layers "
        "only because sandbox.allow_weak_isolation is set",
        reason,
    )
    return _Mode(None, program)


def _mode() -> _Mode:
    pol = policy.current()
    with _mode_lock:
        mode = _modes.get(pol)
        if mode is None:
            mode = _modes[pol] = _select(pol)
    if isinstance(mode, str):
        raise SandboxUnavailable(mode)
    return mode


def check_isolation() -> str:
    """Probe now (once per policy) so a neuron fails at start, not mid-step.

    Returns "kernel" or "weak"; raises SandboxUnavailable with the reason when code would be
    refused."""
    return "kernel" if _mode().wall is not None else "weak"


def _execute(job: dict, limits: SandboxLimits, isolate_network: bool, audit: bool = True) -> _Raw:
    raw = _spawn(job, limits, isolate_network, _mode(), audit)
    if raw.final is not None and raw.final[0] == "WALL":
        raise SandboxUnavailable(f"sandbox kernel wall failed: {raw.final[1]}")
    return raw


def run_python(
    code: str,
    *,
    entrypoint: str | None = None,
    args_json: object = None,
    limits: SandboxLimits = DEFAULT_LIMITS,
    isolate_network: bool = True,
    _in_process_layers: bool = True,
) -> SandboxResult:
    """Run ``code`` in the sandbox; with ``entrypoint``, call it with ``args_json``.

    ``args_json``: None for no arguments, a list/tuple for positional arguments, anything else
    as the single argument. ``returned`` is the function's JSON-round-tripped return value.
    ``isolate_network=False`` skips the network namespace in the weak mode only (the audit hook
    still blocks sockets); the kernel wall always gives the code an empty one.
    ``_in_process_layers=False`` is for tests only: it leaves out the audit hook to show what
    the kernel wall stops on its own. Raises SandboxUnavailable when the kernel wall cannot be
    set up and weak isolation is not allowed.
    """
    _check_code(code, entrypoint)
    if not isinstance(limits, SandboxLimits):
        raise TypeError("limits must be a SandboxLimits")
    job: dict[str, object] = {"code": code, "mode": "exec"}
    if entrypoint is not None:
        job.update(mode="call", entrypoint=entrypoint, inputs=[_args_list(args_json, "args_json")])
    raw = _execute(job, limits, isolate_network, audit=bool(_in_process_layers))
    returned = raw.calls[-1] if (entrypoint is not None and raw.calls) else None
    return _result(raw, limits, returned)


def _canonical(value: object, what: str) -> object:
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be JSON-serialisable: {exc}") from None


_VOIDING = (SandboxStatus.BLOCKED, SandboxStatus.OUTPUT_LIMIT)


def run_tests(
    code: str,
    entrypoint: str,
    cases: list[tuple[object, object]],
    limits: SandboxLimits = DEFAULT_LIMITS,
    isolate_network: bool = True,
) -> TestRunResult:
    """Call ``entrypoint`` once per case inside ONE sandbox process; compare here.

    Each case is ``(args, expected)`` with ``args`` as in :func:`run_python`. A case passes when
    the JSON-round-tripped return value equals the JSON-round-tripped expected value. A run
    that broke policy or wrote more output than ``limits.output_bytes`` fails every case.
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
    raw = _execute(job, limits, isolate_network)
    sandbox = _result(raw, limits)
    by_index: dict[int, dict] = {}
    for call in raw.calls:
        if isinstance(call, dict) and isinstance(call.get("i"), int):
            by_index.setdefault(call["i"], call)
    results = []
    for index, case in enumerate(cases):
        call = by_index.get(index)
        if sandbox.status in _VOIDING:
            call = None  # a run that broke policy or flooded its output earns nothing
        if call is None:
            error = "not run: " + sandbox.detail if sandbox.status is not SandboxStatus.OK else ""
            results.append(CaseResult(index, case[0], case[1], error=error or "no result"))
        elif call.get("ok"):
            actual = call.get("value")
            results.append(CaseResult(index, case[0], case[1], actual, actual == expected[index]))
        else:
            results.append(CaseResult(index, case[0], case[1], error=str(call.get("error", ""))))
    return TestRunResult(sandbox=sandbox, cases=tuple(results))
