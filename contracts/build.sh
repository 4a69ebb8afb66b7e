#!/usr/bin/env bash
# Build both contracts to WASM with nearc (Python >= 3.12 + emscripten), then record what was
# built in contracts/wasm.sha256 (the tests refuse a WASM older than its sources).
# Usage: contracts/build.sh [path-to-a-python3.12-venv-with-nearc]   (default: contracts/.venv312)
# Without emcc on PATH (or without the default venv) it runs contracts/toolchain.sh first, which
# sets up both under contracts/ (git-ignored), and builds with contracts/.toolchain/bin/emcc.
# Each contract folder is copied to a scratch dir first: nearc installs the folder into its venv
# and writes build files next to the sources. Output: contracts/<name>/build/<name>.wasm
# The build is reproducible: the same sources and toolchain give byte-identical WASM (fixed
# SOURCE_DATE_EPOCH, fixed locale and umask, scratch paths mapped out of the compiled code).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ -z "${1:-}" ] && { ! command -v emcc >/dev/null || [ ! -x "$here/.venv312/bin/nearc" ]; }; then
  "$here/toolchain.sh"
fi
command -v emcc >/dev/null || PATH="$here/.toolchain/bin:$PATH"
command -v emcc >/dev/null || { echo "emcc not found: run contracts/toolchain.sh" >&2; exit 1; }
venv="$(cd "${1:-$here/.venv312}" && pwd)"
[ -x "$venv/bin/nearc" ] || { echo "no nearc in $venv: run contracts/toolchain.sh" >&2; exit 1; }
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1795605163}"   # 2026-11-25, any fixed value does
export LC_ALL=C TZ=UTC PYTHONHASHSEED=0
umask 022
# nearc 0.10's MicroPython runtime has a fixed 32 KiB heap and cannot garbage-collect safely
# (main.py disables collection), so a call that allocates more traps. Build with a patched
# copy of nearc whose heap is HEAP_BYTES instead; the installed package stays untouched.
heap="${HEAP_BYTES:-6291456}"
nearc_pkg="$("$venv/bin/python" -c 'import nearc, os; print(os.path.dirname(nearc.__file__))')"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
patched="$work/nearc-patched"
mkdir -p "$patched"
cp -r "$nearc_pkg" "$patched/nearc"
main_c="$patched/nearc/micropython/ports/webassembly-near/main.c"
sed -i -E "s/^#define PYTHON_HEAP_SIZE [0-9]+$/#define PYTHON_HEAP_SIZE $heap/" "$main_c"
grep -q "^#define PYTHON_HEAP_SIZE $heap$" "$main_c" \
  || { echo "could not set the heap size in $main_c (nearc changed?)" >&2; exit 1; }
# Inside a container nearc "sets up" the venv itself: `pip install -e .` of the scratch folder,
# which needs the package index and leaves editable installs of deleted folders in the venv.
# The venv is complete already (toolchain.sh), so the copy never does that.
cli_py="$patched/nearc/cli.py"
sed -i -E 's/^( +)in_container = is_running_in_container\(\)$/\1in_container = False/' "$cli_py"
grep -q "^ *in_container = False$" "$cli_py" \
  || { echo "could not turn off nearc's container venv set-up in $cli_py (nearc changed?)" >&2; exit 1; }
# ONLY="name ..." rebuilds some contracts; the manifest is rewritten for all from what is built.
for name in ${ONLY:-pattern_registry reputation fl_rounds}; do
  scratch="$work/$name"
  mkdir -p "$scratch"
  cp "$here/$name"/*.py "$here/$name/pyproject.toml" "$scratch/"
  (cd "$scratch" && PYTHONPATH="$patched" "$venv/bin/python" -c \
    'import sys; from nearc import main; sys.exit(main())' main.py --venv "$venv" -o "$name.wasm")
  mkdir -p "$here/$name/build"
  cp "$scratch/$name.wasm" "$here/$name/build/$name.wasm"
  echo "built $here/$name/build/$name.wasm"
done
versions="$("$venv/bin/python" -c 'from importlib.metadata import version as v
print("nearc", v("nearc") + ", near-sdk-py", v("near-sdk-py"), end="")')"
emcc --version >"$work/emcc-version.txt"   # not piped into head: emcc dies of SIGPIPE
emcc_version="$(head -n 1 "$work/emcc-version.txt" | sed -E 's/.* ([0-9]+\.[0-9]+\.[0-9]+).*/\1/')"
"$venv/bin/python" "$here/wasm_manifest.py" write \
  "$versions (heap patched to $heap bytes), emcc $emcc_version"
