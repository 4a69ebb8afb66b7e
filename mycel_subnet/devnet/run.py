"""`mycel devnet`: the whole subnet on one machine, start to report, with a clean stop.

Order: preflight (ports, dependencies) -> chain, subnet, wallets (and the NEAR ledger, with the
gateway's API key) -> miners as separate processes, while instances fill the pattern registry in
a thread (seed.py) -> the validator, with its gateway -> watch K epochs with a live view -> the
organic phase: an instance finds and buys a pattern through the gateway (organic.py) -> stop
everything -> report (the registry's activity read from the ledger).
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import signal
import sys
import threading
import time
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.table import Table

from mycel_subnet.devnet.chain_setup import DevnetChain, StaleNeuronsError, create_devnet_chain
from mycel_subnet.devnet.collective_phase import (
    SEED_TIMEOUT_S,
    Seeding,
    miner_registry_flags,
    organic_or_why_not,
    registry_activity,
    validator_collective_flags,
)
from mycel_subnet.devnet.errors import DevnetError
from mycel_subnet.devnet.miner_views import wait_for_views
from mycel_subnet.devnet.near_world import DevnetWorld, prepare_world
from mycel_subnet.devnet.observe import Observer
from mycel_subnet.devnet.plan import DevnetPlan
from mycel_subnet.devnet.processes import ProcessGroup, taken_ports, wait_for_port
from mycel_subnet.devnet.report import DevnetReport, write_report
from mycel_subnet.exit_codes import ExitCode

log = logging.getLogger(__name__)

REQUIRED_MODULES = ("bittensor", "fastapi", "uvicorn", "httpx", "numpy", "matplotlib", "rich")
MINER_START_TIMEOUT_S = 120.0
FIRST_WEIGHTS_TIMEOUT_S = 180.0
DEVNET_SCORE_ALPHA = 0.3
# Miners re-read the metagraph this often, so that every miner's view catches up with the
# validator's permit in seconds (the default, 60 s, suits a real chain's 12 s blocks).
MINER_METAGRAPH_REFRESH_S = 2.0
VIEW_TIMEOUT_S = 60.0
PROGRESS_EVERY_S = 10.0


def preflight(plan: DevnetPlan) -> None:
    missing = [m for m in REQUIRED_MODULES if importlib.util.find_spec(m) is None]
    if "llm" in plan.miner_engines and importlib.util.find_spec("torch") is None:
        missing.append("torch")
    if missing:
        raise DevnetError(
            f"missing dependencies: {', '.join(missing)}; run `bash scripts/setup.sh`",
            ExitCode.UNAVAILABLE,
        )
    busy = taken_ports(plan.miner_ports + _extra_ports(plan))
    if busy:
        raise DevnetError(
            f"port(s) {', '.join(map(str, busy))} already in use; stop what holds them or pass "
            "--base-port with a free range",
            ExitCode.UNAVAILABLE,
        )


def _extra_ports(plan: DevnetPlan) -> list[int]:
    ports = [plan.validator_metrics_port] if plan.validator_metrics_port else []
    return ports + ([plan.gateway_port] if plan.collective else [])


def _neuron_env(plan: DevnetPlan, world: DevnetWorld | None = None) -> dict[str, str]:
    # With the collective loop, the neurons get a HOME inside the output folder: the local NEAR
    # ledger has no setting of its own, and the devnet's must not be the user's ~/.mycel one.
    home = {"HOME": str(world.home.resolve())} if world is not None else {}
    return {
        **home,
        # the "slow" engine sleeps a fraction of the validator's timeout: give it the real one
        "MYCEL_VALIDATOR__TIMEOUT_S": str(plan.timeout_s),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "WANDB_MODE": "offline",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "PYTHONUNBUFFERED": "1",
    }


def _common_flags(chain: DevnetChain, wallet_name: str) -> list[str]:
    return [
        "--subtensor.network", chain.network,
        "--netuid", str(chain.netuid),
        "--wallet.name", wallet_name,
        "--wallet.hotkey", "default",
        "--wallet.path", str(chain.wallets_dir),
    ]  # fmt: skip


def start_miners(
    plan: DevnetPlan, chain: DevnetChain, group: ProcessGroup, world: DevnetWorld | None = None
) -> None:
    for miner, engine, port in zip(chain.miners, plan.miner_engines, plan.miner_ports, strict=True):
        argv = [
            sys.executable, "-m", "neurons.miner",
            *_common_flags(chain, miner.name),
            "--axon.ip", "127.0.0.1",
            "--axon.external_ip", "127.0.0.1",
            "--axon.port", str(port),
            "--miner.engine", engine,
            "--miner.min_stake", "0",
            "--miner.metagraph_refresh_s", str(MINER_METAGRAPH_REFRESH_S),
            *miner_registry_flags(plan, world, miner.name, engine),
        ]  # fmt: skip
        group.start(f"miner{miner.uid}-{engine}", argv)
    for child, port in zip(group.children, plan.miner_ports, strict=False):
        if not wait_for_port(port, MINER_START_TIMEOUT_S):
            raise DevnetError(
                f"{child.name} did not start listening on port {port}; its log:\n{child.tail()}"
            )


def start_validator(
    plan: DevnetPlan, chain: DevnetChain, group: ProcessGroup, world: DevnetWorld | None = None
) -> None:
    argv = [
        sys.executable, "-m", "neurons.validator",
        *_common_flags(chain, "validator"),
        "--validator.state_dir", str(plan.out_dir / "validator"),
        "--validator.step_interval_s", str(plan.step_interval_s),
        "--validator.timeout_s", str(plan.timeout_s),
        "--validator.sample_size", str(plan.miners),
        # a devnet lasts a few epochs: a faster moving average shows the ranking within them
        "--validator.moving_average_alpha", str(DEVNET_SCORE_ALPHA),
        "--wandb.mode", "offline",
        *validator_collective_flags(world),
    ]  # fmt: skip
    if plan.validator_metrics_port:
        argv += ["--validator.metrics_port", str(plan.validator_metrics_port)]
    group.start("validator", argv)


def _live_table(observer: Observer, plan: DevnetPlan, started: float) -> Table:
    table = Table(title="Mycel devnet (Ctrl-C stops everything cleanly)", expand=False)
    table.add_column("block", justify="right")
    table.add_column("epoch", justify="right")
    table.add_column("queries", justify="right")
    table.add_column("weights set", justify="right")
    table.add_column("elapsed", justify="right")
    state = observer.state
    table.add_row(
        str(state.block),
        f"{state.epochs_seen}/{plan.epochs}",
        str(state.queries),
        str(state.weight_sets),
        f"{time.monotonic() - started:.0f} s",
    )
    miners = Table(show_header=True)
    for column in ("uid", "engine", "score", "incentive"):
        miners.add_column(column, justify="right")
    for row in state.latest:
        miners.add_row(str(row.uid), row.engine, f"{row.score:.3f}", f"{row.incentive:.3f}")
    outer = Table.grid()
    outer.add_row(table)
    outer.add_row(miners)
    return outer


def _check_children(group: ProcessGroup) -> None:
    dead = group.dead()
    if dead:
        child = dead[0]
        raise DevnetError(
            f"{child.name} exited early (code {child.process.returncode}); its log:\n{child.tail()}"
        )


def wait_for_permit(observer: Observer, group: ProcessGroup, timeout_s: float) -> int:
    """Permits are granted at epochs: wait for the first one before the validator starts.
    Returns the block at which the permit was seen."""
    deadline = time.monotonic() + timeout_s
    while (block := observer.permit_block()) is None:
        _check_children(group)
        if time.monotonic() > deadline:
            raise DevnetError(f"the validator got no permit within {timeout_s:.0f} s")
        time.sleep(0.5)
    return block


def wait_for_miner_views(plan: DevnetPlan, group: ProcessGroup, block: int) -> None:
    """The permit on chain is not enough: each miner admits callers against its own cached
    metagraph, so wait until every miner's cache is at least as new as the permit's block, or
    the validator's first queries are refused (403 no_validator_permit) by the laggards."""
    behind = wait_for_views(
        plan.miner_ports, block, VIEW_TIMEOUT_S, check=lambda: _check_children(group)
    )
    if behind:
        raise DevnetError(
            f"miner(s) on port(s) {', '.join(map(str, behind))} did not see the validator's "
            f"permit (block {block}) within {VIEW_TIMEOUT_S:.0f} s; see the logs in "
            f"{group.log_dir}"
        )


def watch(
    plan: DevnetPlan, observer: Observer, group: ProcessGroup, console: Console
) -> DevnetReport:
    """Poll the chain and the validator until K epochs have been recorded.

    Epochs count from the validator's first weight setting on: before it, incentive only shows
    the set-up, not the mechanism.
    """
    started = time.monotonic()
    deadline = started + FIRST_WEIGHTS_TIMEOUT_S + plan.epochs * plan.epoch_seconds * 4 + 60
    progress = _Progress(console, plan, started)
    live_view = Live(console=console, refresh_per_second=2) if console.is_terminal else None
    with live_view or contextlib.nullcontext() as live:
        while observer.state.epochs_seen < plan.epochs:
            _check_children(group)
            now = time.monotonic()
            if not observer.begun and now - started > FIRST_WEIGHTS_TIMEOUT_S:
                raise DevnetError(
                    f"the validator set no weights within {FIRST_WEIGHTS_TIMEOUT_S:.0f} s; "
                    f"see {group.log_dir / 'validator.log'}"
                )
            if now > deadline:
                raise DevnetError(
                    f"only {observer.state.epochs_seen} of {plan.epochs} epochs after "
                    f"{now - started:.0f} s; see the logs in {group.log_dir}"
                )
            observer.poll()
            if not observer.begun and observer.state.weight_sets > 0:
                observer.begin()
            if live is not None:
                live.update(_live_table(observer, plan, started))
            else:
                progress.maybe_print(observer)
            time.sleep(0.5)
    return observer.report


class _Progress:
    """Plain progress lines for a log file or a pipe (a live table draws nothing there): one
    when an epoch ends or weights are set, and one at least every PROGRESS_EVERY_S."""

    def __init__(self, console: Console, plan: DevnetPlan, started: float) -> None:
        self.console, self.plan, self.started = console, plan, started
        self._last_print = 0.0
        self._last_key: tuple[int, int] | None = None

    def maybe_print(self, observer: Observer) -> None:
        state = observer.state
        key = (state.epochs_seen, state.weight_sets)
        now = time.monotonic()
        if key == self._last_key and now - self._last_print < PROGRESS_EVERY_S:
            return
        self._last_key, self._last_print = key, now
        waiting = "" if observer.begun else " (waiting for the validator's first weights)"
        self.console.print(
            f"[{now - self.started:4.0f} s] block {state.block}, epochs "
            f"{state.epochs_seen}/{self.plan.epochs}{waiting}, queries {state.queries}, "
            f"weights set {state.weight_sets}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


def _interruptible() -> None:
    """Ctrl-C must stop the devnet even when it was started in the background of a
    non-interactive shell, which starts it with SIGINT ignored (Python then never raises
    KeyboardInterrupt): take the default handler back, as a foreground run has it."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


def run_devnet(plan: DevnetPlan, console: Console | None = None) -> int:
    console = console or Console(stderr=True)
    _interruptible()
    preflight(plan)
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    console.print(f"[bold]Mycel devnet[/] -> {plan.out_dir}")
    console.print(f"setting up chain, subnet and {plan.miners} miner wallets ...")
    try:
        chain = create_devnet_chain(plan)
    except StaleNeuronsError as exc:
        raise DevnetError(str(exc), ExitCode.USAGE) from None
    for note in chain.notes:
        console.print(note, highlight=False, markup=False)
    world = prepare_world(plan, chain) if plan.collective else None
    group = ProcessGroup(log_dir=plan.out_dir / "logs", env=_neuron_env(plan, world))
    observer = Observer(plan, chain)
    interrupted = False
    seed = organic = None
    try:
        seeding = Seeding(world, chain, console) if world is not None else None
        console.print("starting miners: " + ", ".join(plan.miner_engines))
        start_miners(plan, chain, group, world)
        console.print("waiting for the first epoch to grant the validator its permit")
        block = wait_for_permit(observer, group, timeout_s=plan.epoch_seconds * 3 + 30)
        console.print(f"permit at block {block}; waiting for every miner to see it")
        wait_for_miner_views(plan, group, block)
        if seeding is not None:
            seed = seeding.join(SEED_TIMEOUT_S)
            console.print(f"registry: {seed.published} patterns published in {seed.seconds:.0f} s")
        console.print("starting the validator" + (f" (gateway on port {plan.gateway_port})"
                                                   if world is not None else ""))  # fmt: skip
        start_validator(plan, chain, group, world)
        report = watch(plan, observer, group, console)
        if world is not None:
            organic = organic_or_why_not(plan, world, seed, lambda: _check_children(group), console)
    except KeyboardInterrupt:
        interrupted = True
        when = "during the organic phase" if observer.state.epochs_seen >= plan.epochs else (
            "before the last epoch")  # fmt: skip
        report = observer.report
        report.notes.append(f"interrupted by the user {when}")
    finally:
        console.print("stopping neurons ...")
        group.stop_all()
    report.notes.extend(chain.notes)
    observer.finish(report)
    report.registry = registry_activity(world, plan, seed, organic)
    if report.registry is not None:
        report.notes.extend(report.registry.problems)
    paths = write_report(report, plan.out_dir, Console(highlight=False))
    if not plan.keep_chain and plan.chain_path is None:
        _remove_chain(chain.path)
    print(f"report: {paths['json']}\nchart:  {paths['chart']}\nlogs:   {group.log_dir}")
    return ExitCode.INTERRUPTED if interrupted else ExitCode.OK


def _remove_chain(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
