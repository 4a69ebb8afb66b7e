#!/usr/bin/env bash
# Run every benchmark and print a summary of figures and ratios (see benchmarks/run_all.py).
# `bash scripts/bench.sh --quick` only checks that each benchmark starts (its --help), in seconds.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
exec .venv/bin/python benchmarks/run_all.py "$@"
