"""The seccomp filter of the kernel wall, compiled to classic BPF with pyseccomp (libseccomp).

Built once per process in the parent and handed to the launcher, which loads it with
``prctl(PR_SET_SECCOMP)`` just before the untrusted code runs. It is not passed to bwrap's
``--seccomp``: bwrap installs that filter before its own ``execve`` of the interpreter, so a filter
given to bwrap could never forbid ``execve``. Loaded in the launcher, it can.

Everything is allowed except the calls below, which kill the whole process (SIGSYS, which Python
cannot catch): process creation, tracing, mounts, namespaces, keyrings, BPF, perf, io_uring,
modules, and every socket family but AF_UNIX. ``clone3`` returns ENOSYS instead, so glibc falls
back to ``clone``, where the flags can be checked (threads stay allowed). Syscalls of other
architectures (i386 ``int 0x80``, x32) are killed too.
"""

from __future__ import annotations

import errno
import functools
import socket
import tempfile

# Killed outright. Names libseccomp does not know on this architecture are skipped.
KILLED_SYSCALLS: tuple[str, ...] = (
    "fork",
    "vfork",
    "execve",
    "execveat",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "pidfd_getfd",
    "kcmp",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "move_mount",
    "open_tree",
    "mount_setattr",
    "unshare",
    "setns",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "open_by_handle_at",
    "name_to_handle_at",
    "syslog",
)
CLONE_THREAD = 0x00010000
CLONE_NAMESPACES = (
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
)
TIOCSTI = 0x5412  # push bytes into a terminal's input queue


class SeccompUnavailable(RuntimeError):
    """libseccomp (through pyseccomp) cannot build the filter on this host."""


def _rules(sc) -> object:  # pyseccomp.SyscallFilter
    kill = sc.KILL_PROCESS
    filt = sc.SyscallFilter(sc.ALLOW)
    filt.set_attr(sc.Attr.ACT_BADARCH, kill)
    for name in KILLED_SYSCALLS:
        try:
            filt.add_rule(kill, name)
        except (OSError, ValueError):
            continue  # not a syscall on this architecture
    # clone(flags, ...): a new process (no CLONE_THREAD) or any new namespace is killed.
    filt.add_rule(kill, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))
    for flag in CLONE_NAMESPACES:
        filt.add_rule(kill, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    # clone3's flags live in memory the filter cannot read: ENOSYS makes glibc fall back to clone.
    filt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    for call in ("socket", "socketpair"):
        filt.add_rule(kill, call, sc.Arg(0, sc.NE, socket.AF_UNIX))
    filt.add_rule(kill, "ioctl", sc.Arg(1, sc.MASKED_EQ, 0xFFFFFFFF, TIOCSTI))
    return filt


@functools.lru_cache(maxsize=1)
def filter_bpf() -> bytes:
    """The filter as BPF bytes (8 per instruction), or raise SeccompUnavailable with the reason."""
    try:
        import pyseccomp as sc
    except (ImportError, OSError, AttributeError) as exc:  # no libseccomp.so.2 on the host
        raise SeccompUnavailable(f"pyseccomp/libseccomp unavailable: {exc}") from None
    try:
        filt = _rules(sc)
        with tempfile.TemporaryFile() as handle:
            filt.export_bpf(handle)
            handle.seek(0)
            program = handle.read()
    except OSError as exc:
        raise SeccompUnavailable(f"libseccomp could not build the filter: {exc}") from None
    if not program or len(program) % 8:
        raise SeccompUnavailable(f"libseccomp exported a malformed filter ({len(program)} bytes)")
    return program
