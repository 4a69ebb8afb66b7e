"""`mycel fl run`: federated rounds over a local subnet, start to report, with a clean stop.

Order: a throwaway embedded chain with a staked validator and N registered miner wallets (the
devnet's own set-up) -> a private data shard per miner and the validator's held-out texts ->
miners as separate processes (honest, noise, copy), each with its own shard, privacy ledger and
the shared embedded content store -> wait until every miner has published its endpoint -> R
rounds run by a coordinator in this process with the validator's hotkey, recording each round
on the embedded NEAR ledger -> stop everything -> report (JSON, PNG chart, table).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from mycel_subnet.chain.port import ChainPort
from mycel_subnet.devnet.chain_setup import DevnetChain, create_devnet_chain
from mycel_subnet.devnet.plan import DevnetPlan
from mycel_subnet.devnet.processes import ProcessGroup, taken_ports, wait_for_port
from mycel_subnet.exit_codes import ExitCode
from mycel_subnet.flnet.plan import FlPlan

log = logging.getLogger(__name__)

MINER_START_TIMEOUT_S = 180.0
SERVE_TIMEOUT_S = 120.0
VALIDATOR_ACCOUNT = "validator.mycel.test"
FL_CONTRACT = "fl.mycel.test"
SHARD_SEED = 1000  # miner i's shard is drawn with seed SHARD_SEED + i
HELDOUT_SEED = 9_999_991  # the validator's texts: a seed no miner uses


class FlRunError(RuntimeError):
    """A `mycel fl` run cannot go on; the message says why and what to do."""

    def __init__(self, message: str, code: ExitCode = ExitCode.FAILURE) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class FlRun:
    """Everything a finished run hands to the report."""

    plan: FlPlan
    chain: DevnetChain
    behaviour: dict[int, str]  # uid -> behaviour
    hotkeys: dict[int, str]
    initial_loss: float = 0.0
    rounds: list[Any] = field(default_factory=list)  # FlRoundReport per round
    near: list[dict[str, Any] | None] = field(default_factory=list)  # NEAR record per round
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _env(plan: FlPlan) -> dict[str, str]:
    return {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "PYTHONUNBUFFERED": "1",
        "MYCEL_SPACY_DIR": str(plan.out_dir / "spacy-blank-en"),
    }


def write_data(plan: FlPlan) -> tuple[list[Path], list[str]]:
    """One private shard per miner (the toy corpus, each from its own seed) and the
    validator's held-out texts (another seed)."""
    from mycel_subnet.federated.shards import write_shard
    from mycel_subnet.federated.toy import TOY_PATTERN, pattern_corpus

    shards = [
        write_shard(plan.out_dir / "shards" / f"miner{i}.txt",
                    pattern_corpus(TOY_PATTERN, plan.examples, seed=SHARD_SEED + i))
        for i in range(plan.miners)
    ]  # fmt: skip
    heldout = pattern_corpus(TOY_PATTERN, plan.heldout, seed=HELDOUT_SEED)
    return shards, heldout


def _state_dir(plan: FlPlan, index: int) -> Path:
    return plan.out_dir / "miners" / f"miner{index}" / "fl"


def start_miners(plan: FlPlan, chain: DevnetChain, shards: list[Path], group: ProcessGroup) -> None:
    honest = [i for i, b in enumerate(plan.behaviours) if b == "honest"]
    copied = 0
    for i, (miner, behaviour, port) in enumerate(
        zip(chain.miners, plan.behaviours, plan.ports, strict=True)
    ):
        argv = [
            sys.executable, "-m", "neurons.miner",
            "--subtensor.network", chain.network, "--netuid", str(chain.netuid),
            "--wallet.name", miner.name, "--wallet.hotkey", "default",
            "--wallet.path", str(chain.wallets_dir),
            "--axon.ip", "127.0.0.1", "--axon.external_ip", "127.0.0.1", "--axon.port", str(port),
            "--miner.engine", "constant", "--miner.min_stake", "0",
            "--miner.allow", chain.validator.hotkey, "--miner.registry_sync_s", "0",
            "--miner.fl_data", str(shards[i]), "--miner.fl_state_dir", str(_state_dir(plan, i)),
            "--miner.fl_behaviour", behaviour, "--miner.fl_epsilon_budget",
            str(plan.epsilon_budget), "--ipfs.store_dir", str(plan.out_dir / "ipfs"),
        ]  # fmt: skip
        if behaviour == "copy":
            partner = honest[copied % len(honest)]
            copied += 1
            argv += ["--miner.fl_copy_from", str(_state_dir(plan, partner))]
        group.start(f"miner{miner.uid}-{behaviour}", argv)
    for child, port in zip(group.children, plan.ports, strict=True):
        if not wait_for_port(port, MINER_START_TIMEOUT_S):
            raise FlRunError(
                f"{child.name} did not listen on port {port}; its log:\n{child.tail()}"
            )


def wait_until_serving(chain: DevnetChain, group: ProcessGroup) -> None:
    """Each miner publishes its endpoint after its signed self-check: wait for all of them."""
    port = ChainPort(chain.network, chain.netuid)
    wanted = {m.hotkey for m in chain.miners}
    deadline = time.monotonic() + SERVE_TIMEOUT_S
    try:
        while True:
            dead = group.dead()
            if dead:
                child = dead[0]
                raise FlRunError(f"{child.name} exited early (code {child.process.returncode}); "
                                 f"its log:\n{child.tail()}")  # fmt: skip
            serving = {n.hotkey for n in port.metagraph().neurons if n.is_serving}
            if wanted <= serving:
                return
            if time.monotonic() > deadline:
                missing = len(wanted - serving)
                raise FlRunError(f"{missing} miner(s) published no endpoint within "
                                 f"{SERVE_TIMEOUT_S:.0f} s; see {group.log_dir}")  # fmt: skip
            time.sleep(0.5)
    finally:
        port.close()


def _coordinator(plan: FlPlan, chain: DevnetChain, heldout: list[str]) -> Any:
    import bittensor as bt

    from mycel_subnet.storage import LocalContentStore
    from mycel_subnet.validator.federated import (
        FederatedCoordinator,
        FlRoundConfig,
        LocalFlRecorder,
    )

    wallet = bt.Wallet(chain.validator.name, "default", str(chain.wallets_dir))
    config = FlRoundConfig(
        clients_per_round=plan.miners, batch_size=plan.batch_size, local_steps=plan.local_steps,
        noise_multiplier=plan.noise_multiplier, epsilon_budget=plan.epsilon_budget,
        timeout_s=plan.timeout_s,
    )  # fmt: skip
    recorder = LocalFlRecorder(plan.out_dir / "near.sqlite", VALIDATOR_ACCOUNT, FL_CONTRACT)
    coordinator = FederatedCoordinator(
        config, wallet=wallet, store=LocalContentStore(plan.out_dir / "ipfs"),
        state_dir=plan.out_dir / "validator" / "fl", heldout_texts=heldout, recorder=recorder,
    )  # fmt: skip
    return coordinator, recorder


def run_rounds(run: FlRun, coordinator: Any, recorder: Any, console: Console) -> None:
    from mycel_subnet.validator.forward import select_targets

    chain = run.chain
    port = ChainPort(chain.network, chain.netuid)
    try:
        for _ in range(run.plan.rounds):
            graph = port.metagraph()
            # every serving miner: the coordinator samples its K from them
            targets = select_targets(graph, chain.validator.hotkey, 1 << 16, random.Random(0))
            report = asyncio.run(coordinator.run_round(targets))
            run.rounds.append(report)
            run.near.append(
                recorder.ledger.view(FL_CONTRACT, "get_round",
                                     {"coordinator": VALIDATOR_ACCOUNT, "round": report.round})
            )  # fmt: skip
            statuses = ", ".join(
                f"uid {uid} {run.behaviour.get(uid, '?')}: {row.status} {row.value:.2f}"
                for uid, row in sorted(report.rows.items())
            )
            console.print(
                f"round {report.round}: held-out loss {report.loss_before:.4f} -> "
                f"{report.loss_after:.4f} in {report.seconds.get('round_s', 0):.1f} s; {statuses}",
                highlight=False, markup=False, soft_wrap=True,
            )  # fmt: skip
            if report.stopped:
                run.notes.append(f"round {report.round}: {report.stopped}")
                break
    finally:
        port.close()


def run_fl(plan: FlPlan, console: Console | None = None) -> tuple[int, FlRun | None]:
    """Run the plan; returns (exit code, the run) and writes the report into plan.out_dir."""
    from mycel_subnet.flnet.report import write_report

    console = console or Console(stderr=True)
    busy = taken_ports(plan.ports)
    if busy:
        raise FlRunError(
            f"port(s) {', '.join(map(str, busy))} already in use; pass --base-port with a free "
            "range", ExitCode.UNAVAILABLE,
        )  # fmt: skip
    started = time.monotonic()
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    console.print(f"[bold]Mycel federated learning[/] -> {plan.out_dir}")
    devnet_plan = DevnetPlan(miners=plan.miners, out_dir=plan.out_dir, base_port=plan.base_port)
    chain = create_devnet_chain(devnet_plan)
    shards, heldout = write_data(plan)
    behaviour = {m.uid: b for m, b in zip(chain.miners, plan.behaviours, strict=True)}
    run = FlRun(plan, chain, behaviour, {m.uid: m.hotkey for m in chain.miners})
    group = ProcessGroup(log_dir=plan.out_dir / "logs", env=_env(plan))
    code = ExitCode.OK
    try:
        console.print("starting miners: " + ", ".join(plan.behaviours))
        start_miners(plan, chain, shards, group)
        coordinator, recorder = _coordinator(plan, chain, heldout)
        wait_until_serving(chain, group)
        run.initial_loss = coordinator.loss(coordinator.server.global_state,
                                            coordinator.report_set)  # fmt: skip
        run_rounds(run, coordinator, recorder, console)
    except KeyboardInterrupt:
        run.notes.append("interrupted by the user")
        code = ExitCode.INTERRUPTED
    finally:
        console.print("stopping miners ...")
        group.stop_all()
    run.seconds = time.monotonic() - started
    paths = write_report(run, plan.out_dir, Console(highlight=False))
    print(f"report: {paths['json']}\nchart:  {paths['chart']}\nlogs:   {group.log_dir}")
    if code == ExitCode.OK and len(run.rounds) < plan.rounds:
        code = ExitCode.FAILURE
    return int(code), run


def load_report(out_dir: Path) -> dict[str, Any]:
    return json.loads((Path(out_dir) / "fl_report.json").read_text())
