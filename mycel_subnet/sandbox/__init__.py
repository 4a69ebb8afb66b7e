"""Sandbox for untrusted Python (code templates): separate process, rlimits, private dir,
network namespace where permitted, and an audit-hook policy inside the child."""

from mycel_subnet.sandbox.models import (
    CaseResult,
    SandboxLimits,
    SandboxResult,
    SandboxStatus,
    TestRunResult,
)
from mycel_subnet.sandbox.runner import run_python, run_tests

__all__ = [
    "CaseResult",
    "SandboxLimits",
    "SandboxResult",
    "SandboxStatus",
    "TestRunResult",
    "run_python",
    "run_tests",
]
