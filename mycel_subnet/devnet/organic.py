"""The organic end of the devnet's loop, while the neurons still run: bob, a Mycel OS instance,
finds a pattern through the validator's gateway, buys it, runs it and rates it.

In order: wait (bounded) until the validator has verified the pattern bob will buy and
quarantined mallory's poison; ask the gateway (with the API key the devnet issued) and then
`mycel pattern find` with the gateway as a source; buy the extracted split-bill pattern
(`use`: pay, fetch by CID with the hash checked, run in the sandbox) and rate it; read alice's
earnings; check the poison stays hidden (the registry's find_patterns, the gateway and bob's
find) and cannot be bought; check the gateway refuses a caller without a key and one with a
forged key; wait (bounded) until the bound miner's validator rewards reached its NEAR account.

Nothing here raises for what the subnet did: each shortfall is one line in `problems`, which
the report prints as notes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mycel_subnet.devnet.logs import BUY_ARGS, BUY_EXPECTED, BUY_QUERY, UNSAFE_TRIGGER
from mycel_subnet.devnet.near_world import DevnetWorld, account
from mycel_subnet.devnet.registry_view import listed_ids, read_registry, reputation
from mycel_subnet.devnet.seed import SeedReport

VERIFY_WAIT_S = 90.0
GATEWAY_WAIT_S = 45.0
REWARD_WAIT_S = 45.0
POLL_S = 1.0


@dataclass
class OrganicReport:
    query: str = BUY_QUERY
    verification_wait_s: float = 0.0
    gateway: list[dict[str, Any]] = field(default_factory=list)  # its ranked answer
    found: list[dict[str, Any]] = field(default_factory=list)  # bob's find, best first
    bought: dict[str, Any] = field(default_factory=dict)
    rated: dict[str, Any] = field(default_factory=dict)
    earnings: dict[str, Any] = field(default_factory=dict)  # alice's, after the sale
    quarantine: dict[str, Any] = field(default_factory=dict)
    bound: dict[str, Any] = field(default_factory=dict)  # the bound miner's NEAR reputation
    refusals: dict[str, str] = field(default_factory=dict)  # caller -> "status error"
    problems: list[str] = field(default_factory=list)


async def _wait_for_verdicts(
    world: DevnetWorld, seed: SeedReport, report: OrganicReport, check: Callable[[], None],
    progress: Callable[[str], None],
) -> None:  # fmt: skip
    target = seed.target.near_id if seed.target else None
    started = time.monotonic()
    said = False
    while True:
        check()
        snap = await asyncio.to_thread(read_registry, world.ledger)
        wanted = {target: "verified", seed.poisoned: "quarantined"}
        missing = {i: s for i, s in wanted.items() if i is not None and snap.status(i) != s}
        if not missing:
            break
        waited = time.monotonic() - started
        if waited > VERIFY_WAIT_S:
            for pattern_id, status in missing.items():
                now = snap.status(pattern_id) or "not registered"
                report.problems.append(
                    f"pattern {pattern_id} is still {now} after "
                    f"{VERIFY_WAIT_S:.0f} s (expected {status}); see validator/verifications.jsonl"
                )
            break
        if not said:
            progress("waiting for the validator to verify the extracted patterns")
            said = True
        await asyncio.sleep(POLL_S)
    report.verification_wait_s = round(time.monotonic() - started, 1)


async def _gateway_search(client: Any, query: str, check: Callable[[], None]) -> Any:
    """The gateway's answer, retrying while it says it cannot answer yet (503, 429)."""
    from mycel_subnet.gateway.client import GatewayError

    deadline = time.monotonic() + GATEWAY_WAIT_S
    while True:
        check()
        try:
            return await client.search(query, k=5)
        except GatewayError as error:
            if time.monotonic() > deadline or not any(c in str(error) for c in ("503", "429")):
                raise
        await asyncio.sleep(POLL_S)


def _found_rows(found: Any) -> list[dict[str, Any]]:
    return [
        {"near_id": p.near_id, "pattern_id": p.pattern_id, "source": p.source,
         "trigger": p.trigger[:80], "final": round(p.score.final, 4)}
        for p in found.patterns
    ]  # fmt: skip


async def _buy(world: DevnetWorld, seed: SeedReport, report: OrganicReport, client: Any) -> None:
    from mycel_subnet.collective import CollectiveError, Instance, earnings, find, rate, use

    target = seed.target
    bob = Instance(world.instance_config("bob"))
    alice = Instance(world.instance_config("alice"))
    try:
        found = await find(bob, BUY_QUERY, gateway=client, k=5)
        report.found = _found_rows(found)
        report.problems += [f"bob's find: {w}" for w in found.warnings if "gateway" in w]
        pick = next((p for p in found.patterns if p.pattern_id == target.pattern_id), None)
        if pick is None or "gateway" not in pick.source:
            report.problems.append(
                f"bob's find did not return pattern {target.near_id} through the gateway "
                f"(got {[(r['near_id'], r['source']) for r in report.found]})"
            )
            return
        try:
            used = await use(bob, str(pick.near_id), BUY_ARGS)
        except CollectiveError as error:
            report.problems.append(f"bob could not buy pattern {pick.near_id}: {error}")
            return
        report.bought = {
            "near_id": used.near_id, "pattern_id": used.pattern_id, "source": pick.source,
            "rank": [p.pattern_id for p in found.patterns].index(pick.pattern_id) + 1,
            "creator": pick.creator, "paid": used.paid, "creator_share": used.creator_share,
            "fee": used.fee, "output": used.output, "correct": used.output == BUY_EXPECTED,
        }  # fmt: skip
        rated = await rate(bob, used.pattern_id, success=used.output == BUY_EXPECTED, rating=5)
        report.rated = {"near_rated": rated.near_rated, "reputation": rated.reputation,
                        "error": rated.near_error}  # fmt: skip
        earned = await earnings(alice)
        report.earnings = {"account": earned.account, "uses": earned.total_uses,
                           "gross": earned.total_gross, "net": earned.total_net,
                           "reputation": earned.reputation}  # fmt: skip
        await _quarantine_hidden(world, seed, report, bob, client)
    finally:
        await bob.aclose()
        await alice.aclose()


async def _quarantine_hidden(
    world: DevnetWorld, seed: SeedReport, report: OrganicReport, bob: Any, client: Any
) -> None:
    """Where the poison shows up: the registry's listing, the gateway, bob's find."""
    from mycel_subnet.collective import find
    from mycel_subnet.gateway.client import GatewayError
    from mycel_subnet.near.client import RegistryError

    poison = seed.poisoned
    snap = await asyncio.to_thread(read_registry, world.ledger)
    entry = snap.entries.get(poison)
    listed = await asyncio.to_thread(listed_ids, world.ledger, "coding")
    try:
        answer = await client.search(UNSAFE_TRIGGER, k=10)
        in_gateway: bool | None = any(p.near_id == poison for p in answer.patterns)
    except GatewayError as error:
        in_gateway = None
        report.problems.append(f"gateway search for the poison's own words failed: {error}")
    found = await find(bob, UNSAFE_TRIGGER, gateway=client, k=10)
    try:  # the payment only: the poison's code must never run, not even in the sandbox
        await bob.registry().use_pattern(poison, 0)
        refused = None
    except RegistryError as error:
        refused = " ".join(error.message.split())[:160]
    report.quarantine = {
        "near_id": poison, "status": entry.status if entry else None,
        "reason": entry.quarantine_reason if entry else None,
        "in_find_patterns": poison in listed, "in_gateway_search": in_gateway,
        "in_instance_find": any(p.near_id == poison for p in found.patterns),
        "buy_refused": refused,
    }  # fmt: skip
    if refused is None:
        report.problems.append(f"the registry sold quarantined pattern {poison} to bob")
    for where in ("in_find_patterns", "in_gateway_search", "in_instance_find"):
        if report.quarantine[where]:
            report.problems.append(
                f"quarantined pattern {poison} is not hidden: {where.removeprefix('in_')} "
                "still returns it"
            )


async def _gateway_refusals(world: DevnetWorld, report: OrganicReport) -> None:
    """A caller without a key and one with a forged key (bob's key id, another secret) must
    both be refused with 401 and a one-line reason, before any miner is asked."""
    import httpx

    from mycel_subnet.gateway.models import SEARCH_ROUTE

    forged = world.api_key[:17] + "A" * (len(world.api_key) - 17)
    callers = {"no key": {}, "forged key": {"Authorization": f"Bearer {forged}"}}
    async with httpx.AsyncClient(timeout=10.0, trust_env=False) as http:
        for caller, headers in callers.items():
            try:
                resp = await http.post(world.gateway_url + SEARCH_ROUTE, headers=headers,
                                       json={"query": BUY_QUERY, "k": 3})  # fmt: skip
                error = resp.json().get("error", "?") if resp.content else "?"
                report.refusals[caller] = f"{resp.status_code} {error}"
            except (httpx.HTTPError, ValueError, AttributeError) as exc:
                report.refusals[caller] = f"no answer: {type(exc).__name__}"
            if not report.refusals[caller].startswith("401 "):
                report.problems.append(
                    f"the gateway did not refuse a caller with {caller}: {report.refusals[caller]}"
                )


async def _bound_reputation(
    world: DevnetWorld, seed: SeedReport, report: OrganicReport, check: Callable[[], None]
) -> None:
    if not seed.binding:
        return
    subject = world.bound_account
    deadline = time.monotonic() + REWARD_WAIT_S
    while True:
        check()
        score = await asyncio.to_thread(reputation, world.ledger, subject)
        if score.reward_epochs > 0 or time.monotonic() > deadline:
            break
        await asyncio.sleep(POLL_S)
    hotkey = await asyncio.to_thread(reputation, world.ledger, seed.binding["hotkey"])
    report.bound = {
        "uid": seed.binding["uid"], "hotkey": seed.binding["hotkey"], "account": subject,
        "reward_epochs": score.reward_epochs, "reward_ema_ppm": score.reward_ema_ppm,
        "composite_ppm": score.composite_ppm, "hotkey_reward_epochs": hotkey.reward_epochs,
    }  # fmt: skip
    if score.reward_epochs == 0:
        report.problems.append(
            f"no validator reward reached {subject} (bound to uid {seed.binding['uid']}) "
            f"within {REWARD_WAIT_S:.0f} s; see validator/near_rewards.jsonl"
        )


async def run_organic(
    world: DevnetWorld, seed: SeedReport, *, check: Callable[[], None] = lambda: None,
    progress: Callable[[str], None] = lambda _l: None,
) -> OrganicReport:  # fmt: skip
    """Everything above; `check` runs on every poll (to stop when a neuron died)."""
    from mycel_subnet.gateway.client import GatewayClient, GatewayError

    report = OrganicReport()
    if seed.target is None:
        report.problems.append("no extracted pattern was published: nothing to buy")
        return report
    await _wait_for_verdicts(world, seed, report, check, progress)
    client = GatewayClient(world.gateway_url, world.api_key)
    progress(f"bob asks the gateway: {BUY_QUERY!r}")
    try:
        answer = await _gateway_search(client, BUY_QUERY, check)
    except GatewayError as error:
        report.problems.append(f"the gateway did not answer bob: {error}")
    else:
        report.gateway = [
            {"near_id": p.near_id, "creator": p.creator, "support": p.support,
             "fused_score": round(p.fused_score, 4)}
            for p in answer.patterns
        ]  # fmt: skip
        await _buy(world, seed, report, client)
        await _gateway_refusals(world, report)
        if report.bought:
            progress(
                f"bob bought pattern {report.bought['near_id']} from {account('alice')} "
                f"and ran it: {report.bought['output']}"
            )
    await _bound_reputation(world, seed, report, check)
    return report
