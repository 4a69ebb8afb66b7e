"""Value types of the sandbox API: limits in, results out."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits for one sandbox process (all enforced by the kernel or the parent)."""

    cpu_seconds: float = 2.0
    wall_seconds: float = 5.0
    memory_mb: int = 256
    output_bytes: int = 64_000
    file_bytes: int = 1_000_000
    open_files: int = 32
    processes: int = 0

    def __post_init__(self) -> None:
        for name in ("cpu_seconds", "wall_seconds"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"SandboxLimits.{name} must be a positive number, got {value!r}")
        for name in ("memory_mb", "output_bytes", "file_bytes", "open_files"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"SandboxLimits.{name} must be a positive int, got {value!r}")
        if self.memory_mb < 64:
            raise ValueError("SandboxLimits.memory_mb must be at least 64 (the interpreter)")
        if self.open_files < 8:
            raise ValueError("SandboxLimits.open_files must be at least 8 (the interpreter)")
        if not isinstance(self.processes, int) or self.processes < 0:
            raise ValueError(f"SandboxLimits.processes must be an int >= 0, got {self.processes!r}")


class SandboxUnavailable(RuntimeError):
    """The sandbox refuses to run code: its kernel wall cannot be set up (the message says why)
    and the operator has not allowed the weaker, in-process-only mode."""


class SandboxStatus(StrEnum):
    """How a sandbox run ended."""

    OK = "ok"
    EXCEPTION = "exception"
    TIMEOUT = "timeout"
    MEMORY_LIMIT = "memory_limit"
    OUTPUT_LIMIT = "output_limit"
    CRASH = "crash"
    BLOCKED = "blocked"  # the code attempted something the policy forbids


@dataclass(frozen=True)
class SandboxResult:
    """Outcome of one sandbox process. ``layers`` names the isolation layers that were active."""

    status: SandboxStatus
    stdout: str
    stderr: str
    exit_code: int | None
    duration_s: float
    detail: str
    returned: object = None
    layers: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status is SandboxStatus.OK


@dataclass(frozen=True)
class CaseResult:
    """One test case: input, expected, what came back (or the error) and whether it matched."""

    index: int
    args: object
    expected: object
    actual: object = None
    passed: bool = False
    error: str = ""


@dataclass(frozen=True)
class TestRunResult:
    """All cases of one ``run_tests`` call, run in a single sandbox process."""

    __test__ = False  # not a pytest test class

    sandbox: SandboxResult
    cases: tuple[CaseResult, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> int:
        return sum(1 for case in self.cases if case.passed)

    @property
    def failed(self) -> int:
        return len(self.cases) - self.passed

    @property
    def pass_rate(self) -> float:
        return self.passed / len(self.cases) if self.cases else 0.0
