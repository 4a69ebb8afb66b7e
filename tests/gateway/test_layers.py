"""The gateway stands beside the validator, not inside it: it imports nothing from the
validator, the miner or the command line (it is handed callables), and the client an instance
uses pulls in no server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_layers import PACKAGE, _imported

FILES = sorted((PACKAGE / "gateway").rglob("*.py"))
FORBIDDEN = ("mycel_subnet.cli", "mycel_subnet.validator", "mycel_subnet.miner")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_imports_no_neuron_and_no_cli(path: Path) -> None:
    wrong = [n for n in _imported(path) if any(n == f or n.startswith(f + ".") for f in FORBIDDEN)]
    assert not wrong, f"{path.name} imports {wrong}"


def test_the_client_imports_no_server() -> None:
    code = (
        "import sys, mycel_subnet.gateway.client; "
        "servers = ('uvicorn', 'fastapi', 'mycel_subnet.gateway.service'); "
        "bad = [m for m in servers if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=PACKAGE.parent
    )
    assert done.returncode == 0, done.stdout + done.stderr
