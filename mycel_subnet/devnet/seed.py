"""Fill the devnet's registry the way instances do, before the validator starts.

- alice and bob extract patterns from the devnet's interaction logs (`mycel pattern extract`:
  the privacy pipeline, PII removed) and publish them (`mycel pattern publish`: metadata to the
  content store, registration with the registry's storage deposit). The log with unsafe code is
  refused at extract.
- mallory, a poisoner, publishes that unsafe code anyway, by hand, as an attacker would: the
  honest extract path is no defence against someone who skips it; verification must be.
- seeder publishes the synthetic patterns (synthetic.py), so the registry holds enough
  patterns for the validator's search tasks.
- one miner binds its hotkey to a NEAR account (`mycel near bind`: the hotkey signs the
  statement, the account submits bind_hotkey); the validator confirms it before its next
  reward mirror.

Order matters: the validator verifies the lowest unchecked registry ids first, and in its first
steps no miner is calibrated yet (its evaluate_pattern average starts from 0), so what it checks
then waits for a retry (a minute). The synthetic patterns are registered first and absorb those
steps; the extracted and the poisoned ones come after them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mycel_subnet.devnet.logs import LOGS, SPLIT_BILL, poisoned_pattern, write_logs
from mycel_subnet.devnet.near_world import DevnetWorld, account
from mycel_subnet.devnet.synthetic import BROKEN_TRIGGER, synthetic_patterns

LOG_PRICE = "0.01NEAR"  # what the extracted patterns cost per use
SYNTHETIC_PRICE = "0.001NEAR"


@dataclass
class Extraction:
    """One log through extract (and publish when it was not refused)."""

    log: str
    instance: str
    pattern_id: str | None = None
    near_id: int | None = None
    kind: str | None = None
    removed: dict[str, int] = field(default_factory=dict)  # kinds of private values, counts
    refused: str | None = None


@dataclass
class SeedReport:
    extractions: list[Extraction] = field(default_factory=list)
    poisoned: int | None = None  # registry id of mallory's unsafe pattern
    broken: int | None = None  # registry id of the synthetic code that fails its examples
    synthetic: int = 0
    binding: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def target(self) -> Extraction | None:
        """The extracted pattern the buyer finds through the gateway and buys."""
        return next((e for e in self.extractions if e.log == SPLIT_BILL.name and e.near_id), None)

    @property
    def published(self) -> int:
        extracted = sum(1 for e in self.extractions if e.near_id is not None)
        return extracted + self.synthetic + (1 if self.poisoned is not None else 0)


async def _extract(world: DevnetWorld, report: SeedReport, instances: dict[str, Any]) -> None:
    """Every log through extract, in its owner's instance; nothing is published yet."""
    from mycel_subnet.collective import Instance, Refused, extract

    paths = write_logs(world.logs)
    for log in LOGS:
        inst = instances.get(log.owner)
        if inst is None:
            inst = instances[log.owner] = Instance(world.instance_config(log.owner))
        row = Extraction(log.name, log.owner)
        report.extractions.append(row)
        try:
            out = await extract(inst, paths[log.name])
        except Refused as refusal:
            row.refused = str(refusal)
            continue
        row.pattern_id, row.kind, row.removed = out.pattern_id, out.kind, out.removed


async def _publish_extracted(report: SeedReport, instances: dict[str, Any]) -> None:
    from mycel_subnet.collective import publish

    for row in report.extractions:
        if row.pattern_id is not None:
            published = await publish(instances[row.instance], row.pattern_id, LOG_PRICE)
            row.near_id = published.near_id


async def _publish_own(world: DevnetWorld, name: str, patterns: list, price: str) -> list[int]:
    """Publish hand-made patterns from instance `name` (its store first, as extract would)."""
    from mycel_subnet.collective import Instance, publish

    inst = Instance(world.instance_config(name))
    try:
        store = inst.pattern_store()
        ids = []
        for pattern in patterns:
            await asyncio.to_thread(store.put, pattern)
            ids.append((await publish(inst, pattern.id, price)).near_id)
        return ids
    finally:
        await inst.aclose()


async def _bind(world: DevnetWorld, wallets_dir: Path) -> dict[str, Any]:
    """`mycel near bind` for the bound miner: its hotkey signs, its NEAR account submits."""
    if world.bound_miner is None or world.bound_account is None:
        return {}
    import bittensor as bt

    from mycel_subnet.chain.binding import sign_binding
    from mycel_subnet.near.client import LocalRegistryClient
    from mycel_subnet.near.ledger import ONE_NEAR, LocalLedger

    miner = world.bound_miner
    keypair = bt.Wallet(miner.name, "default", str(wallets_dir)).hotkey
    ledger = LocalLedger(world.ledger)
    try:
        ledger.create_account(world.bound_account, 10 * ONE_NEAR)
        client = LocalRegistryClient(ledger, world.bound_account)
        request = await client.bind_hotkey(
            keypair.ss58_address, sign_binding(keypair, world.bound_account)
        )
        binding = await client.get_binding(keypair.ss58_address)
    finally:
        ledger.close()
    return {
        "uid": miner.uid, "hotkey": miner.hotkey, "account": world.bound_account,
        "requested_by": request.account, "confirmed": binding.account == world.bound_account,
    }  # fmt: skip


async def seed_registry(
    world: DevnetWorld, wallets_dir: Path, progress: Callable[[str], None] = lambda _l: None
) -> SeedReport:
    """Everything above, in order; `wallets_dir` holds the bound miner's wallet. Returns what
    was published and bound."""
    started = time.monotonic()
    report = SeedReport()
    instances: dict[str, Any] = {}
    try:
        progress("alice and bob extract patterns from their logs")
        await _extract(world, report, instances)
        synthetic = synthetic_patterns(account("seeder"))
        progress(f"seeder publishes {len(synthetic)} synthetic patterns")
        ids = await _publish_own(world, "seeder", synthetic, SYNTHETIC_PRICE)
        report.synthetic = len(ids)
        report.broken = next(i for p, i in zip(synthetic, ids, strict=True)
                             if p.trigger == BROKEN_TRIGGER)  # fmt: skip
        progress("alice and bob publish what they extracted")
        await _publish_extracted(report, instances)
    finally:
        for inst in instances.values():
            await inst.aclose()
    progress("mallory publishes unsafe code straight to the registry")
    (report.poisoned,) = await _publish_own(
        world, "mallory", [poisoned_pattern(account("mallory"))], "0"
    )
    report.binding = await _bind(world, wallets_dir)
    report.seconds = time.monotonic() - started
    return report
