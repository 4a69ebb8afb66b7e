"""Kernel-side limits applied in the child between fork and exec: rlimits, and in the weak
mode (no bwrap) a best-effort network namespace. Runs in ``preexec_fn``, so it only calls
async-signal-safe-ish primitives and never allocates Python objects it does not need."""

from __future__ import annotations

import ctypes
import math
import os
import resource

from mycel_subnet.sandbox.models import SandboxLimits

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000

try:  # loaded in the parent, before any fork, so the child only calls into it
    _LIBC: ctypes.CDLL | None = ctypes.CDLL(None, use_errno=True)
    _UNSHARE = getattr(_LIBC, "unshare", None)
except OSError:  # pragma: no cover - non-glibc platforms
    _LIBC, _UNSHARE = None, None


def host_netns() -> str:
    """Identity of this process's network namespace ("" when /proc is unavailable)."""
    try:
        return os.readlink("/proc/self/ns/net")
    except OSError:
        return ""


def _unshare_network() -> None:
    """Move the child into an empty network namespace if the kernel lets us (best effort).

    Root can unshare CLONE_NEWNET directly; an unprivileged user may if user namespaces are
    enabled. Failure is fine: the audit hook still blocks sockets, and the launcher reports
    which layers ended up active."""
    if _UNSHARE is None:
        return
    if _UNSHARE(CLONE_NEWNET) == 0:
        return
    _UNSHARE(CLONE_NEWUSER | CLONE_NEWNET)


def rlimit_pairs(limits: SandboxLimits, limit_processes: bool = True) -> list[tuple[int, int, int]]:
    """The (resource, soft, hard) triples for ``limits``; a pure function so it can be tested.

    ``limit_processes=False`` leaves RLIMIT_NPROC alone: under bwrap, which must fork, the
    seccomp filter forbids process creation instead (NPROC counts every process of the uid)."""
    cpu = max(1, math.ceil(limits.cpu_seconds))
    file_size = max(limits.file_bytes, limits.output_bytes + 1)
    pairs = [
        (resource.RLIMIT_CPU, cpu, cpu + 1),
        (resource.RLIMIT_AS, limits.memory_mb * 1024 * 1024, limits.memory_mb * 1024 * 1024),
        (resource.RLIMIT_FSIZE, file_size, file_size),
        (resource.RLIMIT_NOFILE, limits.open_files, limits.open_files),
        (resource.RLIMIT_CORE, 0, 0),
    ]
    if limit_processes:
        pairs.append((resource.RLIMIT_NPROC, limits.processes, limits.processes))
    return pairs


def make_preexec(limits: SandboxLimits, isolate_network: bool, limit_processes: bool = True):
    """Return the ``preexec_fn`` for ``subprocess.Popen``."""
    pairs = rlimit_pairs(limits, limit_processes)

    def preexec() -> None:
        if isolate_network:
            _unshare_network()
        for which, soft, hard in pairs:
            try:
                resource.setrlimit(which, (soft, hard))
            except (ValueError, OSError):
                # e.g. a hard limit below ours that we may not raise: keep the lower one.
                current = resource.getrlimit(which)[1]
                resource.setrlimit(which, (min(soft, current), current))

    return preexec
