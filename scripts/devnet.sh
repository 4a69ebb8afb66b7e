#!/usr/bin/env bash
# The README's main job: the whole Mycel subnet on this machine (embedded chain, miners, a
# validator), no outside service. Sets up .venv on first use; extra arguments go to
# `mycel devnet` (see `bash scripts/devnet.sh --help`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 WANDB_MODE=offline OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
exec .venv/bin/mycel devnet "$@"
