"""The devnet's collective loop as phases of a run: the neurons' flags for it, filling the
registry while the miners start (seed.py, in a thread), the organic phase after the epochs
(organic.py) and the registry's activity for the report (registry_report.py).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

from rich.console import Console

from mycel_subnet.devnet.chain_setup import DevnetChain
from mycel_subnet.devnet.errors import DevnetError
from mycel_subnet.devnet.near_world import DevnetWorld
from mycel_subnet.devnet.plan import DevnetPlan

log = logging.getLogger(__name__)

# The collective loop: miners re-sync their registry index this often; the validator needs this
# many indexed patterns for a search task (the least the setting allows) and verifies this many
# registry patterns per step; seeding the registry may take this long.
MINER_REGISTRY_SYNC_S = 3.0
DEVNET_SEARCH_MIN_PATTERNS = 20
DEVNET_VERIFY_PER_STEP = 6
# With search tasks a validator step sends each miner 11 requests at once, and verification up
# to DEVNET_VERIFY_PER_STEP more: past the miners' defaults (10 /s per hotkey with a burst of
# 10; 8 in flight), which then refuse some challenges of every step (429 rate_limited, 503
# busy). The devnet's miners allow more.
DEVNET_MINER_RATE_PER_HOTKEY = 40.0
DEVNET_MINER_IN_FLIGHT = 16
SEED_TIMEOUT_S = 240.0


def miner_registry_flags(
    plan: DevnetPlan, world: DevnetWorld | None, name: str, engine: str
) -> list[str]:
    """A registry index synced every few seconds (none for the dishonest engines)."""
    if world is None:
        return ["--miner.registry_sync_s", "0"]
    sync = MINER_REGISTRY_SYNC_S if plan.keeps_index(engine) else 0
    index = (world.home / "miners" / f"{name}-registry.sqlite").resolve()
    index.parent.mkdir(parents=True, exist_ok=True)
    return ["--ipfs.store_dir", str(world.ipfs.resolve()), "--miner.registry_sync_s", str(sync),
            "--miner.registry_index", str(index),
            "--miner.rate_limit_per_hotkey", str(DEVNET_MINER_RATE_PER_HOTKEY),
            "--miner.max_in_flight", str(DEVNET_MINER_IN_FLIGHT)]  # fmt: skip


def validator_collective_flags(world: DevnetWorld | None) -> list[str]:
    """NEAR (mirror, bindings, verification and attestation), search tasks and the gateway."""
    if world is None:
        return ["--no-validator.search_task"]
    return [
        "--near.account_id", world.validator_account,
        "--ipfs.store_dir", str(world.ipfs.resolve()),
        "--validator.search_min_patterns", str(DEVNET_SEARCH_MIN_PATTERNS),
        "--validator.verify_per_step", str(DEVNET_VERIFY_PER_STEP),
        "--gateway.enabled", "--gateway.port", str(world.gateway_port),
    ]  # fmt: skip


class Seeding:
    """seed_registry in a daemon thread, so it overlaps the miners' start-up (which mostly
    waits) and a Ctrl-C never waits for it."""

    def __init__(self, world: DevnetWorld, chain: DevnetChain, console: Console) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(world, chain, console), name="devnet-seed", daemon=True
        )
        self._thread.start()

    def _run(self, world: DevnetWorld, chain: DevnetChain, console: Console) -> None:
        from mycel_subnet.devnet.seed import seed_registry

        def say(line: str) -> None:
            console.print(f"registry: {line}", highlight=False, markup=False)

        try:
            self.result = asyncio.run(seed_registry(world, chain.wallets_dir, say))
        except BaseException as error:  # reported by join(), in the main thread
            self.error = error

    def join(self, timeout_s: float) -> Any:
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise DevnetError(f"filling the pattern registry took more than {timeout_s:.0f} s")
        if self.error is not None:
            raise DevnetError(f"filling the pattern registry failed: {_one_line(self.error)}")
        return self.result


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:300] or type(error).__name__


def organic_phase(
    world: DevnetWorld, seed: Any, check: Callable[[], None], console: Console
) -> Any:
    """Bob finds and buys through the gateway (organic.py); a failure is a report note."""
    from mycel_subnet.devnet.organic import OrganicReport, run_organic

    def say(line: str) -> None:
        console.print(f"organic: {line}", highlight=False, markup=False)

    try:
        return asyncio.run(run_organic(world, seed, check=check, progress=say))
    except (DevnetError, KeyboardInterrupt):
        raise
    except Exception as error:  # the report must still be written
        log.debug("organic phase failed", exc_info=True)
        return OrganicReport(problems=[f"the organic phase failed: {_one_line(error)}"])


def organic_or_why_not(
    plan: DevnetPlan, world: DevnetWorld, seed: Any, check: Callable[[], None], console: Console
) -> Any:
    """The organic phase, or a report saying why there is none (no honest miner)."""
    if any(plan.keeps_index(engine) for engine in plan.miner_engines):
        return organic_phase(world, seed, check, console)
    from mycel_subnet.devnet.organic import OrganicReport

    return OrganicReport(problems=[
        "no purchase through the gateway: every miner runs a dishonest engine, so none keeps "
        "a registry index to search and none is calibrated to verify"
    ])  # fmt: skip


def registry_activity(world: DevnetWorld | None, plan: DevnetPlan, seed: Any, organic: Any) -> Any:
    if world is None:
        return None
    from mycel_subnet.devnet.registry_report import RegistryActivity, collect

    try:
        return collect(world.ledger, plan.out_dir / "validator", seed, organic)
    except Exception as error:  # a report without registry numbers beats no report
        log.debug("reading the registry failed", exc_info=True)
        return RegistryActivity(problems=[f"the registry could not be read: {_one_line(error)}"])
