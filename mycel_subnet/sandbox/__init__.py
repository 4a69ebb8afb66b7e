"""Sandbox for untrusted Python (code templates): a kernel wall (bubblewrap namespaces, uid 65534,
no capabilities, seccomp, read-only minimal root) around a separate, rlimited process with a
private dir and an audit-hook policy inside. Without the kernel wall it refuses to run code,
unless the operator allowed weak isolation (``configure_isolation``)."""

from mycel_subnet.sandbox.models import (
    CaseResult,
    SandboxLimits,
    SandboxResult,
    SandboxStatus,
    SandboxUnavailable,
    TestRunResult,
)
from mycel_subnet.sandbox.policy import IsolationPolicy
from mycel_subnet.sandbox.policy import configure as configure_isolation
from mycel_subnet.sandbox.runner import check_isolation, run_python, run_tests

__all__ = [
    "CaseResult",
    "IsolationPolicy",
    "SandboxLimits",
    "SandboxResult",
    "SandboxStatus",
    "SandboxUnavailable",
    "TestRunResult",
    "check_isolation",
    "configure_isolation",
    "run_python",
    "run_tests",
]
