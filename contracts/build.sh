#!/usr/bin/env bash
# Build both contracts to WASM with nearc (needs Python >= 3.12 and emcc on PATH).
# Usage: contracts/build.sh [path-to-a-python3.12-venv-with-nearc]   (default: contracts/.venv312)
# Each contract folder is copied to a scratch dir first: nearc installs the folder into its venv
# and writes build files next to the sources. Output: contracts/<name>/build/<name>.wasm
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$(cd "${1:-$here/.venv312}" && pwd)"
command -v emcc >/dev/null || { echo "emcc not found: apt-get install emscripten" >&2; exit 1; }
[ -x "$venv/bin/nearc" ] || { echo "no nearc in $venv: $venv/bin/pip install near-sdk-py nearc" >&2; exit 1; }
for name in pattern_registry reputation; do
  scratch="$(mktemp -d)"
  cp "$here/$name"/*.py "$here/$name/pyproject.toml" "$scratch/"
  (cd "$scratch" && "$venv/bin/nearc" main.py --venv "$venv" -o "$name.wasm")
  mkdir -p "$here/$name/build"
  cp "$scratch/$name.wasm" "$here/$name/build/$name.wasm"
  rm -rf "$scratch"
  echo "built $here/$name/build/$name.wasm"
done
