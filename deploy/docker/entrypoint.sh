#!/usr/bin/env bash
# Container entry point: give the neurons a writable view of the read-only wallets, then exec.
#
# The wallets are mounted read-only at /wallets. A neuron writes its one-per-hotkey lock file
# beside the hotkey (<wallet>/.miner-<ss58>.lock), so it gets /run/mycel/wallets instead: one
# writable folder per wallet holding symlinks to the read-only hotkeys/ and coldkeypub.txt. The
# coldkey itself is never linked: a node needs only its hotkey. Nothing is copied.
set -euo pipefail

SRC="${MYCEL_WALLETS_RO:-/wallets}"
VIEW="${MYCEL_WALLETS_VIEW:-/run/mycel/wallets}"
if [[ -d "$SRC" ]]; then
  mkdir -p "$VIEW"
  for wallet in "$SRC"/*/; do
    [[ -d "$wallet" ]] || continue
    name="$(basename "$wallet")"
    mkdir -p "$VIEW/$name"
    for item in hotkeys coldkeypub.txt; do
      if [[ -e "$wallet$item" && ! -e "$VIEW/$name/$item" ]]; then
        ln -s "$wallet$item" "$VIEW/$name/$item"
      fi
    done
  done
fi
exec "$@"
