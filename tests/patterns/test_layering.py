"""patterns/ sits below engines/: discovery takes its safety score from mycel_subnet.safety, and
no module of the package imports mycel_subnet.engines (checked on the source, so a lazy import
inside a function counts too)."""

from __future__ import annotations

import ast
from pathlib import Path

import mycel_subnet.patterns as patterns_pkg

FORBIDDEN = "mycel_subnet.engines"


def imported_modules(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_patterns_never_import_engines():
    files = sorted(Path(patterns_pkg.__file__).parent.rglob("*.py"))
    assert len(files) >= 5
    offenders = {
        f"{path.name}: {name}"
        for path in files
        for name in imported_modules(path.read_text())
        if name == FORBIDDEN or name.startswith(FORBIDDEN + ".") or name == "mycel_subnet.engines"
    }
    assert not offenders


def test_the_checker_sees_engine_imports():
    assert "mycel_subnet.engines.risk" in imported_modules(
        "def f():\n    from mycel_subnet.engines.risk import pattern_safety\n"
    )
    assert "mycel_subnet.engines" in imported_modules("from mycel_subnet import engines\n")


def test_engines_risk_is_the_safety_module():
    from mycel_subnet.engines import risk
    from mycel_subnet.safety import pattern

    assert risk.pattern_safety is pattern.pattern_safety
    assert risk.Safety is pattern.Safety
