#!/usr/bin/env bash
# Start a real subtensor localnet and prepare a Mycel subnet on it (for your own machine).
#
# Two ways to get a node:
#   1. Docker (default):  the image ghcr.io/opentensor/subtensor-localnet (fast blocks, Alice and
#      Bob prefunded; Alice is sudo). Needs a running Docker engine.
#   2. A source-built node binary:  build subtensor yourself
#        git clone https://github.com/opentensor/subtensor && cd subtensor
#        cargo build -p node-subtensor --profile release --features pow-faucet
#      then run this script with  --node-binary /path/to/target/release/node-subtensor
#      (it starts a single dev node: --dev --one --rpc-external --rpc-cors all).
#
# Then the script, using the btcli bundled with bittensor 11 (.venv/bin/btcli):
#   - imports Alice (the dev sudo account, prefunded) as wallet "alice",
#   - creates unencrypted devnet wallets: owner, validator, miner (coldkey+hotkey each),
#   - funds them from Alice, registers a subnet owned by "owner" and starts it,
#   - sets testing-friendly hyperparameters (short tempo, no commit-reveal; the weights rate
#     limit is root-only and set through Alice with sudo),
#   - registers the validator and the miner (burned registration) and stakes to the validator,
#   - prints the commands to start a miner and a validator.
#
# Usage: scripts/localnet.sh [--dry-run] [--docker | --node-binary PATH] [--port 9944]
#                            [--wallet-path DIR] [--btcli PATH] [--help]
#   --dry-run   print every step without running anything
set -euo pipefail

DRY_RUN=0
MODE="docker"
NODE_BINARY=""
PORT=9944
IMAGE="ghcr.io/opentensor/subtensor-localnet:devnet-ready"
CONTAINER="mycel-localnet"
WALLET_PATH="${HOME}/.bittensor/wallets"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BTCLI="${SCRIPT_DIR}/../.venv/bin/btcli"
# The well-known dev seed of //Alice (sudo and prefunded on every subtensor localnet).
ALICE_SEED="0xe5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a"
TEMPO=360  # the owner-settable range is 360..50400

usage() {
    sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --dry-run) DRY_RUN=1 ;;
        --docker) MODE="docker" ;;
        --node-binary)
            MODE="binary"
            NODE_BINARY="${2:?--node-binary needs a path}"
            shift
            ;;
        --port)
            PORT="${2:?--port needs a number}"
            shift
            ;;
        --wallet-path)
            WALLET_PATH="${2:?--wallet-path needs a directory}"
            shift
            ;;
        --btcli)
            BTCLI="${2:?--btcli needs a path}"
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            echo "unknown option: $1 (see --help)" >&2
            exit 2
            ;;
    esac
    shift
done

ENDPOINT="ws://127.0.0.1:${PORT}"

# Print a step; run it unless --dry-run.
run() {
    printf '+ %s\n' "$*"
    if [[ "${DRY_RUN}" -eq 0 ]]; then
        "$@"
    fi
}

bt() { # chain commands: never prompt
    run "${BTCLI}" "$@" --network "${ENDPOINT}" --wallet-path "${WALLET_PATH}" --yes
}

bt_keys() { # local key commands (wallet create/regen) take no --yes
    run "${BTCLI}" "$@" --wallet-path "${WALLET_PATH}"
}

start_node() {
    if [[ "${MODE}" == "docker" ]]; then
        run docker rm -f "${CONTAINER}"
        run docker run -d --name "${CONTAINER}" -p "${PORT}:9944" -p 9945:9945 "${IMAGE}"
    else
        if [[ "${DRY_RUN}" -eq 0 && ! -x "${NODE_BINARY}" ]]; then
            echo "node binary not executable: ${NODE_BINARY}" >&2
            exit 1
        fi
        printf '+ %s &\n' "${NODE_BINARY} --dev --one --rpc-external --rpc-cors all --rpc-port ${PORT}"
        if [[ "${DRY_RUN}" -eq 0 ]]; then
            "${NODE_BINARY}" --dev --one --rpc-external --rpc-cors all --rpc-port "${PORT}" \
                >"${TMPDIR:-/tmp}/mycel-localnet.log" 2>&1 &
            echo "node pid $! (log: ${TMPDIR:-/tmp}/mycel-localnet.log)"
        fi
    fi
}

wait_for_node() {
    printf '+ wait until %s answers\n' "${ENDPOINT}"
    if [[ "${DRY_RUN}" -eq 1 ]]; then
        return
    fi
    for _ in $(seq 1 60); do
        if "${BTCLI}" subnets list --network "${ENDPOINT}" >/dev/null 2>&1; then
            return
        fi
        sleep 2
    done
    echo "the node at ${ENDPOINT} did not answer within 120 s" >&2
    exit 1
}

ss58_of() { # wallet name, key file ("coldkeypub.txt" or "hotkeys/default")
    if [[ "${DRY_RUN}" -eq 1 ]]; then
        echo "<ss58 of $1>"
        return
    fi
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ss58Address"])' \
        "${WALLET_PATH}/$1/$2"
}

main() {
    if [[ "${DRY_RUN}" -eq 0 && ! -x "${BTCLI}" ]]; then
        echo "btcli not found at ${BTCLI}; install the project (.venv) or pass --btcli" >&2
        exit 1
    fi
    start_node
    wait_for_node

    # Alice: the prefunded sudo account of the dev chain.
    bt_keys wallet regen-coldkey --wallet alice --seed "${ALICE_SEED}" --no-password --overwrite
    for name in owner validator miner; do
        bt_keys wallet create --wallet "${name}" --wallet-hotkey default --no-password
    done
    for name in owner validator miner; do
        bt wallet transfer --wallet alice --dest "$(ss58_of "${name}" coldkeypub.txt)" \
            --amount-tao 2000
    done

    bt subnets create --wallet owner --wallet-hotkey default
    # A fresh localnet has netuid 1 (root is 0); the first created subnet is netuid 2.
    NETUID="${NETUID:-2}"
    bt hparams start --wallet owner --netuid "${NETUID}"
    bt hparams set --wallet owner --netuid "${NETUID}" --name tempo --value "${TEMPO}"
    bt hparams set --wallet owner --netuid "${NETUID}" \
        --name commit_reveal_weights_enabled --value false
    bt hparams set --wallet owner --netuid "${NETUID}" --name max_allowed_uids --value 256
    # Root-only: let validators set weights every 10 blocks.
    bt call AdminUtils.sudo_set_weights_set_rate_limit --sudo --wallet alice \
        --args "{\"netuid\": ${NETUID}, \"weights_set_rate_limit\": 10}"

    for name in validator miner; do
        bt subnets register --wallet "${name}" --wallet-hotkey default --netuid "${NETUID}"
    done
    bt stake add --wallet validator --netuid "${NETUID}" \
        --hotkey "$(ss58_of validator hotkeys/default)" --amount-tao 1000

    cat <<EOF

Localnet ready at ${ENDPOINT}, subnet ${NETUID}. Start the neurons:

  mycel-miner --subtensor.network local --netuid ${NETUID} --wallet.name miner \\
      --wallet.hotkey default --wallet.path ${WALLET_PATH} \\
      --axon.port 8091 --axon.external_ip 127.0.0.1
  mycel-validator --subtensor.network local --netuid ${NETUID} --wallet.name validator \\
      --wallet.hotkey default --wallet.path ${WALLET_PATH}

(The validator gets its permit at the next epoch, within ${TEMPO} blocks.)
EOF
}

main
