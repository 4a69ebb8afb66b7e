#!/usr/bin/env bash
# Opt-in auto-updater: fast-forward this checkout, reinstall (scripts/setup.sh), run the tests
# that matter, and restart the neurons only when [tool.mycel] spec_version changed.
# See mycel_subnet/ops/autoupdate.py and docs/validator.md ("Auto-update"). Examples:
#   scripts/auto_update.sh --restart-cmd "pm2 restart mycel-validator"
#   scripts/auto_update.sh --restart-cmd "sudo -n systemctl restart mycel-validator.service"
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"
[[ -x "$PY" ]] || PY="$(command -v python3)"
cd "$ROOT"
exec "$PY" -m mycel_subnet.ops.autoupdate --repo "$ROOT" "$@"
