"""Every escape attempt in the corpus is contained with the right status, and nothing leaks to
the host. Runs real sandbox processes (no fakes)."""

import socket

import pytest

from mycel_subnet.sandbox import SandboxLimits, SandboxStatus, run_python
from tests.sandbox.escape_corpus import CORPUS

LIMITS = SandboxLimits(cpu_seconds=1.0, wall_seconds=2.0, memory_mb=128, output_bytes=20_000)


@pytest.fixture
def listener():
    """A loopback listener; the test checks afterwards that nobody connected to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.setblocking(False)
    yield server
    server.close()


def _assert_no_connection(server: socket.socket) -> None:
    with pytest.raises(BlockingIOError):
        server.accept()


@pytest.mark.parametrize(("name", "code", "expected"), CORPUS, ids=[c[0] for c in CORPUS])
def test_escape_attempt_is_contained(name, code, expected, tmp_path, listener):
    outside = tmp_path / "outside.txt"
    if "remove" in name:
        outside.write_text("keep me")
    source = code.format(outside=str(outside), port=listener.getsockname()[1])
    result = run_python(source, limits=LIMITS)
    assert result.status is expected, (result.status, result.detail, result.stderr[-500:])
    assert {"audit_hook", "bwrap", "seccomp", "unprivileged_uid"} <= set(result.layers)
    if "remove" in name:
        assert outside.read_text() == "keep me"
    else:
        assert not outside.exists(), "the attacker wrote a file outside the sandbox"
    _assert_no_connection(listener)
    if expected is SandboxStatus.BLOCKED:
        assert result.detail.startswith("policy violation")
    if name == "read_etc_passwd":
        assert "root:" not in result.stdout


@pytest.mark.parametrize(("name", "code", "expected"), CORPUS, ids=[c[0] for c in CORPUS])
def test_kernel_wall_alone_contains_the_corpus(name, code, expected, tmp_path, listener):
    """Without the audit hook the statuses differ (a read is a FileNotFoundError, not a policy
    violation), but nothing may reach the host."""
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    source = code.format(outside=str(outside), port=listener.getsockname()[1])
    result = run_python(source, limits=LIMITS, _in_process_layers=False)
    assert "audit_hook" not in result.layers
    assert outside.read_text() == "keep me"
    assert list(tmp_path.iterdir()) == [outside]
    _assert_no_connection(listener)
    assert "root:" not in result.stdout
    if expected in (SandboxStatus.TIMEOUT, SandboxStatus.MEMORY_LIMIT, SandboxStatus.OUTPUT_LIMIT):
        assert result.status is expected, (result.status, result.detail)


@pytest.mark.parametrize("isolate_network", [True, False])
def test_loopback_connect_blocked_with_and_without_netns(isolate_network, listener):
    """Each wall alone (audit hook; seccomp plus netns) must stop the connection."""
    port = listener.getsockname()[1]
    code = (
        "import socket\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
        "except Exception as e:\n"
        "    print('caught', type(e).__name__)\n"
    )
    result = run_python(code, limits=LIMITS, isolate_network=isolate_network)
    assert result.status is SandboxStatus.BLOCKED
    assert "netns" in result.layers  # the kernel wall gives an empty netns either way
    _assert_no_connection(listener)
    without_hook = run_python(
        code, limits=LIMITS, isolate_network=isolate_network, _in_process_layers=False
    )
    assert without_hook.status is SandboxStatus.BLOCKED  # seccomp: no AF_INET socket at all
    _assert_no_connection(listener)


def test_private_dir_is_writable_and_removed_after(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the runner makes its dirs
    code = (
        "import os\n"
        "def go():\n"
        "    with open('scratch.txt', 'w') as f:\n"
        "        f.write('hello')\n"
        "    return [open('scratch.txt').read(), os.getcwd()]\n"
    )
    result = run_python(code, entrypoint="go", limits=LIMITS)
    assert result.status is SandboxStatus.OK, result.detail
    text, cwd = result.returned
    assert text == "hello"
    assert cwd == "/sandbox"  # the private dir, bound from a host temp dir...
    assert list(tmp_path.iterdir()) == [], "...that must be deleted afterwards"


def test_environment_is_empty():
    result = run_python("import os\ndef env():\n    return dict(os.environ)\n", entrypoint="env")
    assert result.status is SandboxStatus.OK
    assert not {k for k in result.returned if k not in ("LC_CTYPE",)}


def test_stdlib_imports_still_work():
    code = "import json, re, math, collections, datetime, decimal\ndef f():\n    return 1\n"
    result = run_python(code, entrypoint="f", limits=LIMITS)
    assert result.status is SandboxStatus.OK, result.detail
    assert result.returned == 1
