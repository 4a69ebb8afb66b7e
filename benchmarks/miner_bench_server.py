"""Helper for bench_miner_http.py: serve the real miner app with a no-op engine.

Runs in its own process so the load generator does not share its event loop. Every validator
hotkey found under --wallets (names v0, v1, ...) is put in the metagraph with a permit, so each
request goes through the full btauth verification, caller policy, limits and response signing.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import bittensor as bt
import uvicorn

from mycel_subnet.chain.types import MetagraphSnapshot, NeuronInfo
from mycel_subnet.miner.app import build_app
from mycel_subnet.miner.limits import ServiceLimits
from mycel_subnet.miner.metagraph_cache import MetagraphCache
from mycel_subnet.transport.policy import CallerPolicy
from protocol import EvaluatePatternResult, EvaluationResult, GeneratePatternResult, InferenceResult


class NoopEngine:
    name = "noop"

    def inference(self, request):
        return InferenceResult(response="ok")

    def evaluate_pattern(self, request):
        return EvaluatePatternResult(
            evaluation_result=EvaluationResult(relevance=0, quality=0, safety=0)
        )

    def generate_pattern(self, request):
        return GeneratePatternResult(generated_pattern=None, refusal_reason="noop")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--wallets", type=Path, required=True)
    parser.add_argument("--validators", type=int, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    miner = bt.Wallet("miner", "hot", str(args.wallets))
    neurons = [NeuronInfo(uid=0, hotkey=miner.hotkey.ss58_address, coldkey="", stake=0.0,
                          validator_permit=False)]  # fmt: skip
    for i in range(args.validators):
        hotkey = bt.Wallet(f"v{i}", "hot", str(args.wallets)).hotkey.ss58_address
        neurons.append(
            NeuronInfo(uid=i + 1, hotkey=hotkey, coldkey="", stake=10.0, validator_permit=True)
        )
    snap = MetagraphSnapshot(netuid=1, block=1, neurons=tuple(neurons))
    app = build_app(
        wallet=miner,
        engine=NoopEngine(),
        metagraph=MetagraphCache(lambda: snap, refresh_s=3600, initial=snap),
        policy=CallerPolicy(min_stake=1.0),
        limits=ServiceLimits(
            max_in_flight=64, max_waiting=256, rate_limit_per_ip=1e6, rate_limit_per_hotkey=1e6
        ),
    )
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
