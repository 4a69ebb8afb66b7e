"""Federated rounds in the subnet's own wire form, at 4 and 16 miners with the tiny toy model:
seconds per round phase and bytes on the wire. Prints figures; asserts nothing.

Phases: train (each miner: fetch the global adapter by CID, DP-SGD with Opacus), upload (encode,
put into the content store, sign the claim, persist the ledger), fetch (the validator: claim
signature, accountant recomputed, update fetched by CID with its sha256 checked, decoded), score
(copy detection, the DP noise floor and one held-out loss per update). The accountant's RDP
epsilon costs about 0.1 s per distinct history and is cached: miners with the same shard size
report the same history, so here the validator computes it once a round, aggregate (DP-FedAvg),
publish (the new global adapter by CID). Miners are called directly, one after another in this
process: the signed HTTP exchange is measured by bench_miner_http.py (about 1 ms a call), and
on a subnet miners train in parallel on their own machines, so a round's training time there is
the slowest miner's ("train max"), not the sum. Shards: 512 toy texts per miner, expected batch
64 (sample rate 1/8), 10 local steps, noise 1.0; PII removal is off here (it runs once when a
miner starts, about 2.3 s with presidio, not per round).

Run: .venv/bin/python benchmarks/bench_federated_rounds.py [--miners 4 16] [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def bench(miners: int, rounds: int, root: Path) -> None:
    # Imported here so that `--help` answers at once instead of loading torch first.
    import bittensor as bt
    import torch

    from mycel_subnet.federated.accounting import _rdp_epsilon
    from mycel_subnet.federated.miner_side import FederatedMinerSide, MinerFlConfig
    from mycel_subnet.federated.models import TOY_BASE
    from mycel_subnet.federated.shards import write_shard
    from mycel_subnet.federated.toy import TOY_PATTERN, pattern_corpus
    from mycel_subnet.storage import LocalContentStore
    from mycel_subnet.transport.client import QueryOutcome
    from mycel_subnet.validator.federated import FederatedCoordinator, FlRoundConfig, FlRoundReport
    from mycel_subnet.validator.forward import MinerTarget
    from protocol import ClaySynapseResponse

    torch.set_num_threads(1)
    store = LocalContentStore(root / "ipfs")

    def hotkey(name: str):
        wallet = bt.Wallet(name, "hot", str(root / "wallets"))
        wallet.create_new_hotkey(use_password=False, suppress=True, overwrite=True)
        return wallet

    validator = hotkey("validator")
    setup = time.perf_counter()
    sides, targets = [], []
    for i in range(miners):
        wallet = hotkey(f"miner{i}")
        shard = write_shard(root / f"shard{i}.txt", pattern_corpus(TOY_PATTERN, 512, seed=i))
        config = MinerFlConfig(shard, root / f"fl{i}", 1000.0, TOY_BASE, use_presidio=False)
        sides.append(FederatedMinerSide(wallet.hotkey, store, config))
        targets.append(MinerTarget(i, wallet.hotkey.ss58_address, "c", "direct"))
    coordinator = FederatedCoordinator(
        FlRoundConfig(clients_per_round=miners, batch_size=64, epsilon_budget=1000.0),
        wallet=validator, store=store, state_dir=root / "validator",
        heldout_texts=pattern_corpus(TOY_PATTERN, 128, seed=10_007),
    )  # fmt: skip
    print(f"{miners} miners: set-up {time.perf_counter() - setup:.1f} s "
          f"(toy base model and shard per miner, the validator's held-out data)")  # fmt: skip
    me = validator.hotkey.ss58_address
    for round_no in range(1, rounds + 1):
        started = time.perf_counter()
        global_in, size = coordinator.publish_global()
        request = coordinator.request_for(round_no, global_in, size)
        publish_in = time.perf_counter() - started
        answers, timings, answer_bytes = [], [], 0
        begin = time.perf_counter()
        for side in sides:
            result = side(request, me)
            timings.append(side.timings)
            response = ClaySynapseResponse(request_id="a" * 32, result=result)
            answer_bytes = len(response.model_dump_json())
            outcome = QueryOutcome(latency_s=sum(side.timings.values()), response=response)
            answers.append((outcome, time.perf_counter() - begin))
        before = coordinator.loss(coordinator.server.global_state, coordinator.report_set)
        report = FlRoundReport(round_no, before, before, before, global_in, global_in)
        seconds: dict[str, float] = {}
        _rdp_epsilon.cache_clear()  # the validator is another process: nothing computed yet
        accepted, _ = coordinator.score_and_aggregate(targets, answers, request, report,
                                                      miners, seconds)  # fmt: skip
        train = [t["fetch_s"] + t["train_s"] for t in timings]
        upload = [t["upload_s"] for t in timings]
        print(
            f"  round {round_no}: train median {statistics.median(train):.3f} s, max "
            f"{max(train):.3f} s, sum {sum(train):.2f} s | upload median "
            f"{1000 * statistics.median(upload):.1f} ms | fetch {seconds['fetch_s']:.3f} s | "
            f"score {seconds['score_s']:.3f} s | aggregate {1000 * seconds['aggregate_s']:.1f} ms"
            f" | publish {1000 * (publish_in + seconds['publish_s']):.1f} ms | accepted "
            f"{len(accepted)}/{miners} | held-out loss {report.loss_before:.4f} -> "
            f"{report.loss_after:.4f}"
        )
        if round_no == rounds:
            per_update = request.max_update_bytes
            print(
                f"  on the wire: one update {per_update} bytes by CID "
                f"({per_update * miners / 1024:.0f} KiB a round for {miners} miners), the "
                f"global adapter {size} bytes, one signed answer {answer_bytes} bytes of JSON"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--miners", type=int, nargs="+", default=[4, 16], help="miner counts")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per miner count")
    args = parser.parse_args()
    for count in args.miners:
        with tempfile.TemporaryDirectory() as tmp:
            bench(count, args.rounds, Path(tmp))


if __name__ == "__main__":
    main()
