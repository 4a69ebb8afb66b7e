"""The manifest of the committed contract WASM: which sources each .wasm was built from.

CI has no emscripten, so the nearc-built WASM is committed and tested as is. contracts/build.sh
writes contracts/wasm.sha256 with, per contract, the sha256 of its .wasm and a digest of the
source files it was built from; tests/near/test_wasm_contract.py recomputes both and fails
when a source changed but the WASM was not rebuilt, so a stale WASM never passes silently.

Usage: python contracts/wasm_manifest.py write [toolchain text]   (build.sh does this)
       python contracts/wasm_manifest.py check
Standard library only: it runs under the build venv (3.12) and the project's Python.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONTRACTS = ("pattern_registry", "reputation", "fl_rounds")
MANIFEST = HERE / "wasm.sha256"


def source_files(folder: Path) -> list[Path]:
    """What nearc builds from: every .py of the folder and its pyproject.toml."""
    files = [*folder.glob("*.py"), folder / "pyproject.toml"]
    return sorted(f for f in files if f.is_file())


def source_digest(folder: Path) -> str:
    """sha256 over (name, length, bytes) of each source file, in name order."""
    digest = hashlib.sha256()
    for path in source_files(folder):
        data = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return digest.hexdigest()


def wasm_path(name: str, root: Path = HERE) -> Path:
    return root / name / "build" / f"{name}.wasm"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def render(root: Path = HERE, toolchain: str = "") -> str:
    """The manifest text for the WASM and sources now under `root`."""
    lines = ["# Written by contracts/build.sh; checked by tests/near/test_wasm_contract.py."]
    if toolchain:
        lines.append("# toolchain: " + toolchain)
    for name in CONTRACTS:
        wasm = wasm_path(name, root)
        if not wasm.is_file():
            raise FileNotFoundError(f"no WASM for {name} at {wasm}: run contracts/build.sh")
        lines.append(
            f"{name} wasm={file_sha256(wasm)} size={wasm.stat().st_size}"
            f" sources={source_digest(root / name)}"
        )
    return "\n".join(lines) + "\n"


def parse(text: str) -> dict[str, dict[str, str]]:
    """contract name -> {"wasm": hex, "size": str, "sources": hex}; comments are skipped."""
    entries: dict[str, dict[str, str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, *fields = line.split()
        try:
            entries[name] = dict(field.split("=", 1) for field in fields)
        except ValueError:
            raise ValueError(f"wasm.sha256 line {number}: expected key=value fields") from None
    return entries


def problems(root: Path = HERE, manifest: Path | None = None) -> list[str]:
    """Why the committed WASM under `root` cannot be trusted; empty when it is current."""
    manifest = manifest or root / "wasm.sha256"
    if not manifest.is_file():
        return [f"no manifest at {manifest}: run contracts/build.sh"]
    entries = parse(manifest.read_text())
    found = []
    for name in CONTRACTS:
        entry = entries.get(name)
        wasm = wasm_path(name, root)
        if entry is None:
            found.append(f"{name}: not in {manifest.name}: run contracts/build.sh")
        elif not wasm.is_file():
            found.append(f"{name}: no WASM at {wasm}: run contracts/build.sh")
        elif file_sha256(wasm) != entry.get("wasm"):
            found.append(f"{name}: {wasm.name} is not the WASM {manifest.name} records")
        elif source_digest(root / name) != entry.get("sources"):
            found.append(
                f"{name}: sources changed since {wasm.name} was built: run contracts/build.sh"
            )
    return found


def main(argv: list[str]) -> int:
    if argv[:1] == ["write"]:
        MANIFEST.write_text(render(HERE, " ".join(argv[1:])))
        print(f"wrote {MANIFEST}")
        return 0
    if argv[:1] == ["check"]:
        found = problems()
        for line in found:
            print(line, file=sys.stderr)
        return 1 if found else 0
    print("usage: wasm_manifest.py write [toolchain] | check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
