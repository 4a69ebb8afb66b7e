#!/usr/bin/env bash
# Build both contracts to WASM with nearc (needs Python >= 3.12 and emcc on PATH), then record
# what was built in contracts/wasm.sha256 (the tests refuse a WASM older than its sources).
# Usage: contracts/build.sh [path-to-a-python3.12-venv-with-nearc]   (default: contracts/.venv312)
# Each contract folder is copied to a scratch dir first: nearc installs the folder into its venv
# and writes build files next to the sources. Output: contracts/<name>/build/<name>.wasm
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$(cd "${1:-$here/.venv312}" && pwd)"
command -v emcc >/dev/null || { echo "emcc not found: apt-get install emscripten" >&2; exit 1; }
[ -x "$venv/bin/nearc" ] || { echo "no nearc in $venv: $venv/bin/pip install near-sdk-py nearc" >&2; exit 1; }
# nearc 0.10's MicroPython runtime has a fixed 32 KiB heap and cannot garbage-collect safely
# (main.py disables collection), so a call that allocates more traps. Build with a patched
# copy of nearc whose heap is HEAP_BYTES instead; the installed package stays untouched.
heap="${HEAP_BYTES:-6291456}"
nearc_pkg="$("$venv/bin/python" -c 'import nearc, os; print(os.path.dirname(nearc.__file__))')"
patched="$(mktemp -d)"
trap 'rm -rf "$patched"' EXIT
cp -r "$nearc_pkg" "$patched/nearc"
main_c="$patched/nearc/micropython/ports/webassembly-near/main.c"
sed -i -E "s/^#define PYTHON_HEAP_SIZE [0-9]+$/#define PYTHON_HEAP_SIZE $heap/" "$main_c"
grep -q "^#define PYTHON_HEAP_SIZE $heap$" "$main_c" \
  || { echo "could not set the heap size in $main_c (nearc changed?)" >&2; exit 1; }
for name in pattern_registry reputation; do
  scratch="$(mktemp -d)"
  cp "$here/$name"/*.py "$here/$name/pyproject.toml" "$scratch/"
  (cd "$scratch" && PYTHONPATH="$patched" "$venv/bin/python" -c \
    'import sys; from nearc import main; sys.exit(main())' main.py --venv "$venv" -o "$name.wasm")
  mkdir -p "$here/$name/build"
  cp "$scratch/$name.wasm" "$here/$name/build/$name.wasm"
  rm -rf "$scratch"
  echo "built $here/$name/build/$name.wasm"
done
versions="$("$venv/bin/python" -c 'from importlib.metadata import version as v
print("nearc", v("nearc") + ", near-sdk-py", v("near-sdk-py"), end="")')"
emcc_version="$(emcc --version | head -n 1 | sed -E 's/.* ([0-9]+\.[0-9]+\.[0-9]+).*/\1/')"
"$venv/bin/python" "$here/wasm_manifest.py" write \
  "$versions (heap patched to $heap bytes), emcc $emcc_version"
