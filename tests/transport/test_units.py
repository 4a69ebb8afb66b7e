"""Policy order, token buckets and admission ordering, without a server."""

from __future__ import annotations

import asyncio

import pytest

from mycel_subnet.transport.admission import AdmissionController
from mycel_subnet.transport.policy import CallerPolicy, Refusal
from mycel_subnet.transport.ratelimit import TokenBucketLimiter
from tests.miner.harness import snapshot_with

GRAPH = snapshot_with([("val", 50.0, True), ("small", 0.1, True), ("noperm", 500.0, False)])


@pytest.mark.parametrize(
    ("policy", "hotkey", "refusal"),
    [
        (CallerPolicy(), "val", None),
        (CallerPolicy(), "ghost", Refusal.NOT_REGISTERED),
        (CallerPolicy(), "noperm", Refusal.NO_VALIDATOR_PERMIT),
        (CallerPolicy(require_validator_permit=False), "noperm", None),
        (CallerPolicy(min_stake=1.0), "small", Refusal.INSUFFICIENT_STAKE),
        (CallerPolicy(deny=["val"], allow=["val"]), "val", Refusal.DENIED),
        (CallerPolicy(allow=["ghost"], min_stake=1e9), "ghost", None),
        (CallerPolicy(min_stake=1e9), "noperm", Refusal.NO_VALIDATOR_PERMIT),  # permit first
    ],
)
def test_policy_order(policy, hotkey, refusal):
    decision = policy.decide(hotkey, GRAPH)
    assert decision.refusal is refusal and decision.allowed is (refusal is None)


def test_policy_without_a_metagraph_refuses_instead_of_raising():
    assert CallerPolicy().decide("val", None).refusal is Refusal.NOT_REGISTERED


def test_token_bucket_refills_at_its_rate_and_reports_the_wait():
    now = [0.0]
    limiter = TokenBucketLimiter(2.0, clock=lambda: now[0])
    assert limiter.check("a") == 0 and limiter.check("a") == 0
    assert limiter.check("a") == pytest.approx(0.5)
    assert limiter.check("b") == 0  # keys are independent
    now[0] += 0.5
    assert limiter.check("a") == 0


def test_token_bucket_caps_the_number_of_keys():
    limiter = TokenBucketLimiter(1.0, max_keys=3)
    for key in "abcdef":
        limiter.check(key)
    assert len(limiter._buckets) == 3


def test_admission_grants_by_stake_and_evicts_the_lowest():
    async def scenario():
        adm = AdmissionController(1, max_waiting=2)
        assert await adm.acquire(0.0, 1.0)
        low = asyncio.ensure_future(adm.acquire(1.0, 5.0))
        mid = asyncio.ensure_future(adm.acquire(5.0, 5.0))
        await asyncio.sleep(0)
        high = asyncio.ensure_future(adm.acquire(9.0, 5.0))  # queue full: evicts "low"
        await asyncio.sleep(0.01)
        assert low.done() and low.result() is False
        adm.release()
        await asyncio.sleep(0.01)
        assert high.done() and high.result() is True and not mid.done()
        adm.release()
        assert await mid is True
        adm.release()
        return adm.in_flight

    assert asyncio.run(scenario()) == 0
