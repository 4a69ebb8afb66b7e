"""Refusal without the kernel wall, and the operator's explicit weak-isolation override."""

import logging
import stat

import pytest

from mycel_subnet.cli.neuron_main import apply_sandbox_settings
from mycel_subnet.config import load_settings
from mycel_subnet.sandbox import (
    IsolationPolicy,
    SandboxStatus,
    SandboxUnavailable,
    check_isolation,
    configure_isolation,
    run_python,
    run_tests,
)

RUNNER_LOG = "mycel_subnet.sandbox.runner"


@pytest.fixture(autouse=True)
def restore_policy():
    previous = configure_isolation(IsolationPolicy())
    yield
    configure_isolation(previous)


def _fake_bwrap(tmp_path, message: str):
    """A bwrap that knows its version but cannot create namespaces, as on a locked-down host."""
    path = tmp_path / "bwrap"
    path.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "--version" ]; then echo "bubblewrap 0.11.0"; exit 0; fi\n'
        f"echo 'bwrap: {message}' >&2\nexit 1\n"
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_missing_bwrap_refuses_to_run_code(tmp_path):
    missing = tmp_path / "no-such-bwrap"
    configure_isolation(bwrap_path=str(missing))
    with pytest.raises(SandboxUnavailable) as caught:
        run_python("print('ran')")
    message = str(caught.value)
    assert str(missing) in message and "allow_weak_isolation" in message
    assert "\n" not in message
    with pytest.raises(SandboxUnavailable):
        run_tests("def f(x):\n    return x\n", "f", [(1, 1)])
    with pytest.raises(SandboxUnavailable):
        check_isolation()


def test_refused_namespaces_refuse_to_run_code(tmp_path):
    fake = _fake_bwrap(tmp_path, "No permissions to create new namespace")
    configure_isolation(bwrap_path=str(fake))
    with pytest.raises(SandboxUnavailable, match="No permissions to create new namespace"):
        run_python("print('ran')")


def test_weak_mode_runs_with_one_warning(tmp_path, caplog):
    configure_isolation(bwrap_path=str(tmp_path / "no-such-bwrap"), allow_weak_isolation=True)
    with caplog.at_level(logging.WARNING, logger=RUNNER_LOG):
        first = run_python("def f():\n    return 7\n", entrypoint="f")
        second = run_python("def f():\n    return 8\n", entrypoint="f")
    assert check_isolation() == "weak"
    assert (first.returned, second.returned) == (7, 8)
    assert "bwrap" not in first.layers and "audit_hook" in first.layers
    warnings = [r for r in caplog.records if r.name == RUNNER_LOG]
    assert len(warnings) == 1 and "allow_weak_isolation" in warnings[0].getMessage()
    blocked = run_python("import os\nos.system('id')")
    assert blocked.status is SandboxStatus.BLOCKED  # the in-process wall still stands


def test_neuron_settings_apply_the_policy(tmp_path):
    missing = tmp_path / "no-such-bwrap"
    strict = load_settings({"sandbox.bwrap_path": str(missing)})
    refusal = apply_sandbox_settings(strict)
    assert refusal is not None and "allow_weak_isolation" in refusal
    weak = load_settings({"sandbox.bwrap_path": str(missing), "sandbox.allow_weak_isolation": True})
    assert apply_sandbox_settings(weak) is None
    assert apply_sandbox_settings(load_settings({})) is None  # this host has the wall
    assert check_isolation() == "kernel"


def test_validator_exits_4_with_one_line_when_the_wall_is_missing(tmp_path):
    import subprocess
    import sys

    missing = tmp_path / "no-such-bwrap"
    done = subprocess.run(
        [sys.executable, "-m", "neurons.validator", "--sandbox.bwrap_path", str(missing)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 4, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "allow_weak_isolation" in lines[0] and "Traceback" not in lines[0]
