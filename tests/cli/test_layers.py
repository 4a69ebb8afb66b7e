"""The neurons' layers stand below the command line: miner/, validator/, devnet/ and the shared
start-up checks import nothing from mycel_subnet.cli (the exit codes they return live in
mycel_subnet.exit_codes)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from mycel_subnet import exit_codes
from mycel_subnet.cli import exit_codes as cli_exit_codes

PACKAGE = Path(__file__).resolve().parents[2] / "mycel_subnet"
BELOW_CLI = [
    *sorted((PACKAGE / "miner").rglob("*.py")),
    *sorted((PACKAGE / "validator").rglob("*.py")),
    *sorted((PACKAGE / "devnet").rglob("*.py")),
    PACKAGE / "neuron_startup.py",
]


def _module_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path) -> list[str]:
    """Absolute names of every module the file imports (relative imports resolved)."""
    package = _module_of(path).rsplit(".", 1)[0] if path.name != "__init__.py" else None
    package = package or _module_of(path)
    names = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.extend([base, *(f"{base}.{alias.name}" for alias in node.names)])
    return names


def test_the_walk_sees_the_layers() -> None:
    assert len(BELOW_CLI) > 10
    assert "mycel_subnet.exit_codes" in _imported(PACKAGE / "miner" / "run.py") + _imported(
        PACKAGE / "neuron_startup.py"
    )


@pytest.mark.parametrize("path", BELOW_CLI, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_nothing_from_the_cli(path: Path) -> None:
    wrong = [
        n for n in _imported(path) if n == "mycel_subnet.cli" or n.startswith("mycel_subnet.cli.")
    ]
    assert not wrong, f"{path.relative_to(PACKAGE)} imports {wrong}"


def test_the_cli_re_exports_the_same_codes() -> None:
    assert cli_exit_codes.ExitCode is exit_codes.ExitCode
    assert exit_codes.ExitCode.USAGE == 2 and exit_codes.ExitCode.NOT_REGISTERED == 3
