"""Every fenced snippet in docs/discovery.md marked `runnable` runs: bash blocks in order in one
temporary folder with HOME pointed there (so every `~` default lands in it) and the venv's
`mycel` on PATH, then the python blocks, each in its own interpreter."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.validator.servers import free_socket

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "discovery.md"
FENCE = re.compile(r"^(`{3,})(\w+) runnable\n(.*?)^\1[ \t]*$", re.M | re.S)

pytestmark = pytest.mark.slow


def snippets(language: str) -> list[str]:
    return [body for _, lang, body in FENCE.findall(DOC.read_text()) if lang == language]


def test_the_page_has_runnable_snippets():
    assert len(snippets("bash")) >= 3 and len(snippets("python")) >= 1


def test_every_runnable_snippet_runs(tmp_path):
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PORT": str(port),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
    }
    for env_key in [k for k in env if k.startswith("MYCEL_")]:
        del env[env_key]
    outputs = []
    for index, body in enumerate(snippets("bash")):
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", body],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, f"bash snippet {index}:\n{done.stdout}\n{done.stderr}"
        outputs.append(done.stdout)
    walk, adapter, api = outputs
    assert "invoice report search query" in adapter and "model_adapter" in adapter
    assert "already published" in walk and "33.34" in walk
    assert "net 9500000000000000000000" in walk
    assert "Marta" not in walk and "brightlane" not in walk
    assert '"status":"ok"' in api and '"patterns":[{' in api and "refused, exit 2" in api
    for index, body in enumerate(snippets("python")):
        script = tmp_path / f"snippet_{index}.py"
        script.write_text(body)
        done = subprocess.run(
            [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True,
            text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, f"python snippet {index}:\n{done.stdout}\n{done.stderr}"
        assert done.stdout.strip()
