"""The kernel wall on its own: real bwrap, real seccomp, real child processes.

Most tests switch the in-process layers (audit hook) off with the tests-only
``_in_process_layers=False``, so what they show is what the kernel alone stops: the audit hook
is a second wall, not the one these results rest on.
"""

import os
import socket
import sys
from pathlib import Path

import pytest

from mycel_subnet.sandbox import (
    SandboxLimits,
    SandboxStatus,
    check_isolation,
    run_python,
    run_tests,
)
from mycel_subnet.sandbox.seccomp import filter_bpf

LIMITS = SandboxLimits(cpu_seconds=1.0, wall_seconds=3.0, memory_mb=128, output_bytes=20_000)
REPO = Path(__file__).resolve().parents[2]
SIGSYS_DETAIL = "kernel wall refused a system call"


def kernel_only(code: str, **kwargs) -> object:
    return run_python(code, limits=LIMITS, _in_process_layers=False, **kwargs)


def test_this_host_runs_the_kernel_wall():
    assert check_isolation() == "kernel"
    result = run_python("x = 1", limits=LIMITS)
    assert result.status is SandboxStatus.OK, result.detail
    for layer in (
        "bwrap",
        "namespaces",
        "ro_root",
        "seccomp",
        "no_new_privs",
        "no_capabilities",
        "unprivileged_uid",
        "netns",
        "audit_hook",
    ):
        assert layer in result.layers, (layer, result.layers)


def test_identity_inside_is_unprivileged():
    code = (
        "import os\n"
        "def who():\n"
        "    status = dict(line.split(':', 1) for line in open('/proc/self/status'))\n"
        "    keys = ('CapEff', 'CapPrm', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp')\n"
        "    return [os.getuid(), os.geteuid(), os.getgid(), os.getpid(),\n"
        "            {k: status[k].strip() for k in keys}, sorted(os.listdir('/')),\n"
        "            sorted(os.listdir('/etc')), os.path.expanduser('~')]\n"
    )
    result = kernel_only(code, entrypoint="who")
    assert result.status is SandboxStatus.OK, result.detail
    uid, euid, gid, pid, status, root, etc, home = result.returned
    assert (uid, euid, gid) == (65534, 65534, 65534)
    assert pid < 10, "not in a fresh pid namespace"
    for key in ("CapEff", "CapPrm", "CapBnd", "CapAmb"):
        assert int(status[key], 16) == 0, (key, status[key])
    assert status["NoNewPrivs"] == "1" and status["Seccomp"] == "2"
    assert "work" not in root and "home" not in root
    assert etc == ["group", "passwd"] and home == "/nonexistent"  # synthetic, no host entries


FORK_EXEC = (
    "import importlib, os\n"
    "ps = importlib.import_module('_posixsubprocess')\n"
    "r, w = os.pipe()\n"
    "pid = ps.fork_exec([b'/bin/sh', '-c', 'id'], [b'/bin/sh'], True, (w,), None, None,\n"
    "                   -1, -1, -1, -1, -1, -1, r, w, True, False, 0, None, None, None, -1,\n"
    "                   None, False)\n"
    "print('spawned', pid)\n"
)
PROCESS_ATTEMPTS = [
    ("builtin_fork_exec", FORK_EXEC),
    ("os_fork", "import os\npid = os.fork()\nprint('spawned', pid)"),
    ("posix_spawn", "import os\nprint('spawned', os.posix_spawn('/bin/true', ['true'], {}))"),
    (
        "ctypes_clone",
        "import ctypes, signal\n"
        "print('spawned', ctypes.CDLL(None).syscall(56, int(signal.SIGCHLD), 0, 0, 0, 0))",
    ),
    (
        "ctypes_clone_new_userns",
        "import ctypes\n"
        "CLONE_THREAD, CLONE_SIGHAND, CLONE_VM, CLONE_NEWNS = 0x10000, 0x800, 0x100, 0x20000\n"
        "flags = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM | CLONE_NEWNS\n"
        "print('spawned', ctypes.CDLL(None).syscall(56, flags, 0, 0, 0, 0))",
    ),
    (
        "ctypes_execve",
        "import ctypes\nargv = (ctypes.c_char_p * 2)(b'/bin/sh', None)\n"
        "print('spawned', ctypes.CDLL(None).execve(b'/bin/sh', argv, None))",
    ),
    ("ctypes_vfork", "import ctypes\nprint('spawned', ctypes.CDLL(None).syscall(58))"),
    ("subprocess", "import subprocess\nprint('spawned', subprocess.run(['id']))"),
    ("os_system", "import os\nprint('spawned', os.system('id'))"),
    ("unshare", "import ctypes\nprint('spawned', ctypes.CDLL(None).unshare(0x10000000))"),
    ("ptrace", "import ctypes\nprint('spawned', ctypes.CDLL(None).ptrace(16, 1, 0, 0))"),
    (
        "mount",
        "import ctypes\nprint('spawned', ctypes.CDLL(None).mount(b'x', b'/tmp', b'tmpfs', 0, 0))",
    ),
]


@pytest.mark.parametrize(("name", "code"), PROCESS_ATTEMPTS, ids=[a[0] for a in PROCESS_ATTEMPTS])
def test_kernel_wall_alone_stops_process_creation(name, code):
    result = kernel_only(code)
    assert result.status is SandboxStatus.BLOCKED, (result.status, result.detail, result.stderr)
    assert SIGSYS_DETAIL in result.detail
    assert "spawned" not in result.stdout and "uid=" not in result.stdout
    assert "audit_hook" not in result.layers


@pytest.mark.parametrize(("name", "code"), PROCESS_ATTEMPTS, ids=[a[0] for a in PROCESS_ATTEMPTS])
def test_both_walls_stop_process_creation(name, code):
    result = run_python(code, limits=LIMITS)
    assert result.status is SandboxStatus.BLOCKED, (result.status, result.detail)
    assert "spawned" not in result.stdout


def test_threads_still_work_under_the_wall():
    code = (
        "import threading\n"
        "def f():\n"
        "    out = []\n"
        "    workers = [threading.Thread(target=out.append, args=(i,)) for i in range(4)]\n"
        "    [w.start() for w in workers]\n"
        "    [w.join() for w in workers]\n"
        "    return sorted(out)\n"
    )
    result = kernel_only(code, entrypoint="f")
    assert result.status is SandboxStatus.OK, result.detail
    assert result.returned == [0, 1, 2, 3]


def test_kernel_wall_alone_stops_host_writes(tmp_path):
    outside = tmp_path / "outside.txt"
    targets = [str(outside), "/usr/pwned", "/etc/pwned", "/root/pwned", "/pwned", "/dev/shm/pwned"]
    targets.append(str(REPO / "pwned.txt"))
    targets.append(os.path.realpath(sys.base_prefix) + "/pwned")
    code = (
        "import os\n"
        "def go(paths):\n"
        "    out = {}\n"
        "    for p in paths:\n"
        "        try:\n"
        "            os.makedirs(os.path.dirname(p), exist_ok=True)\n"
        "            with open(p, 'w') as f:\n"
        "                f.write('pwned')\n"
        "            out[p] = 'wrote'\n"
        "        except OSError as e:\n"
        "            out[p] = type(e).__name__\n"
        "    with open('inside.txt', 'w') as f:\n"
        "        f.write('fine')\n"
        "    return out\n"
    )
    result = kernel_only(code, entrypoint="go", args_json=[targets])
    assert result.status is SandboxStatus.OK, result.detail
    for path in targets:
        assert not os.path.exists(path), f"{path} was written on the host"
    # Only the fresh tmpfs /tmp (gone with the sandbox) may take a write: tmp_path, and the
    # repo too when the checkout itself lives under /tmp.
    wrote = {p for p, what in result.returned.items() if what == "wrote"}
    assert wrote <= {p for p in targets if p.startswith("/tmp/")}, result.returned


def _host_file_under_root() -> str | None:
    for entry in sorted(Path("/root").glob(".*")) if os.access("/root", os.R_OK) else []:
        if entry.is_file() and entry.name != ".pyenv":
            return str(entry)
    return None


def test_kernel_wall_alone_hides_host_files():
    targets = ["/etc/shadow", "/etc/passwd", "/etc/hostname", str(REPO / "pyproject.toml")]
    targets.append(str(Path(sys.prefix) / "pyvenv.cfg"))  # the venv
    targets.append(str(Path(__file__).resolve()))
    if (secret := _host_file_under_root()) is not None:
        targets.append(secret)
    for path in targets[:4]:
        if not os.path.exists(path):
            targets.remove(path)
    code = (
        "def go(paths):\n"
        "    out = {}\n"
        "    for p in paths:\n"
        "        try:\n"
        "            out[p] = open(p, 'rb').read(64).hex()\n"
        "        except OSError as e:\n"
        "            out[p] = type(e).__name__\n"
        "    return out\n"
    )
    result = kernel_only(code, entrypoint="go", args_json=[targets])
    assert result.status is SandboxStatus.OK, result.detail
    seen = dict(result.returned)
    synthetic = bytes.fromhex(seen.pop("/etc/passwd", ""))  # the sandbox's own, one entry
    assert b"root:" not in synthetic
    assert set(seen.values()) <= {"FileNotFoundError", "PermissionError"}, seen


@pytest.mark.parametrize(
    ("family", "kind"),
    [
        (socket.AF_INET, socket.SOCK_STREAM),
        (socket.AF_INET6, socket.SOCK_DGRAM),
        (socket.AF_INET, socket.SOCK_RAW),
        (socket.AF_PACKET, socket.SOCK_RAW),
        (socket.AF_NETLINK, socket.SOCK_RAW),
    ],
)
def test_kernel_wall_alone_refuses_network_sockets(family, kind):
    code = f"import socket\ns = socket.socket({int(family)}, {int(kind)})\nprint('socket', s)"
    result = kernel_only(code)
    assert result.status is SandboxStatus.BLOCKED, (result.status, result.detail)
    assert SIGSYS_DETAIL in result.detail and "socket" not in result.stdout


def test_unix_socketpair_is_allowed_but_has_no_network():
    code = (
        "import os, socket\n"
        "def f():\n"
        "    a, b = socket.socketpair()\n"
        "    a.sendall(b'hi')\n"
        "    return [b.recv(2).decode(), sorted(os.listdir('/sys/class/net'))\n"
        "            if os.path.isdir('/sys/class/net') else []]\n"
    )
    result = kernel_only(code, entrypoint="f")
    assert result.status is SandboxStatus.OK, result.detail
    assert result.returned[0] == "hi"


def test_output_overflow_fails_every_case():
    code = "def f(x):\n    print('x' * 5000)\n    return x\n"
    cases = [(i, i) for i in range(10)]  # 50 KB of output, over the 20 KB limit
    result = run_tests(code, "f", cases, limits=LIMITS)
    assert result.sandbox.status is SandboxStatus.OUTPUT_LIMIT, result.sandbox.detail
    assert result.passed == 0
    assert all("output" in case.error for case in result.cases)


def test_output_under_the_limit_still_passes():
    code = "def f(x):\n    print('x' * 100)\n    return x\n"
    result = run_tests(code, "f", [(1, 1), (2, 2)], limits=LIMITS)
    assert result.sandbox.status is SandboxStatus.OK and result.passed == 2


def test_seccomp_filter_is_built_once_as_bpf():
    program = filter_bpf()
    assert program and len(program) % 8 == 0
    assert filter_bpf() is program
