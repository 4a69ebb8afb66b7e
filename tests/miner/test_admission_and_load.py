"""Saturation, priority by stake, many validators at once, and graceful shutdown, over loopback."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time

import httpx
import pytest

from mycel_subnet.miner.limits import ServiceLimits
from mycel_subnet.miner.metagraph_cache import MetagraphCache
from mycel_subnet.transport.admission import AdmissionController
from mycel_subnet.transport.client import query_miner
from protocol import ClaySynapseResponse
from tests.miner.harness import inference, make_hotkey, running_miner, snapshot_with


def _limits(**kw) -> ServiceLimits:
    return ServiceLimits(rate_limit_per_ip=1000, rate_limit_per_hotkey=1000, **kw)


def _post(miner, caller, query, deadline_s=10.0):
    with httpx.Client(timeout=20) as c:
        start = time.monotonic()
        resp = miner.post(c, caller, inference(query, deadline_s=deadline_s))
        return resp, time.monotonic() - start


def _wait_for(predicate, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError("condition not reached")


def test_saturated_miner_refuses_fast_with_retry_after(keys, cache):
    limits = _limits(max_in_flight=1, max_waiting=1, max_queue_wait_s=5.0)
    with running_miner(keys.miner, cache=cache, limits=limits) as miner:
        pool = concurrent.futures.ThreadPoolExecutor(4)
        busy = pool.submit(_post, miner, keys.validator, "gate")
        _wait_for(lambda: miner.engine.calls == 1)
        queued = pool.submit(_post, miner, keys.whale, "queued")
        _wait_for(lambda: miner.app.state.service.admission.waiting == 1)
        refused, took = _post(miner, keys.poor, "low")  # lower stake than the waiter
        assert refused.status_code == 503 and refused.json()["error"] == "busy"
        assert int(refused.headers["Retry-After"]) >= 1
        assert took < 1.0  # refused at once, not at its 10 s deadline
        miner.engine.release.set()
        assert busy.result()[0].status_code == 200
        assert queued.result()[0].status_code == 200


def test_higher_stake_evicts_a_lower_stake_waiter(keys, cache):
    limits = _limits(max_in_flight=1, max_waiting=1, max_queue_wait_s=5.0)
    with running_miner(keys.miner, cache=cache, limits=limits) as miner:
        pool = concurrent.futures.ThreadPoolExecutor(4)
        busy = pool.submit(_post, miner, keys.validator, "gate")
        _wait_for(lambda: miner.engine.calls == 1)
        low = pool.submit(_post, miner, keys.poor, "low")
        _wait_for(lambda: miner.app.state.service.admission.waiting == 1)
        high = pool.submit(_post, miner, keys.whale, "high")
        low_resp, low_took = low.result(timeout=5)  # evicted before the gate opens
        assert low_resp.status_code == 503 and low_took < 2.0
        miner.engine.release.set()
        assert busy.result()[0].status_code == 200
        assert high.result()[0].status_code == 200
        assert miner.engine.order == ["gate", "high"]


def test_waiters_are_served_by_stake_not_arrival(keys, cache):
    limits = _limits(max_in_flight=1, max_waiting=4, max_queue_wait_s=5.0)
    with running_miner(keys.miner, cache=cache, limits=limits) as miner:
        pool = concurrent.futures.ThreadPoolExecutor(4)
        busy = pool.submit(_post, miner, keys.validator, "gate")
        _wait_for(lambda: miner.engine.calls == 1)
        futures = []
        for caller, query in ((keys.poor, "low"), (keys.validator, "mid"), (keys.whale, "high")):
            futures.append(pool.submit(_post, miner, caller, query))
            n = len(futures)
            _wait_for(lambda n=n: miner.app.state.service.admission.waiting == n)
        miner.engine.release.set()
        assert all(f.result()[0].status_code == 200 for f in [busy, *futures])
        assert miner.engine.order == ["gate", "high", "mid", "low"]


def test_a_waiter_is_refused_after_the_short_queue_wait(keys, cache):
    limits = _limits(max_in_flight=1, max_waiting=4, max_queue_wait_s=0.3)
    with running_miner(keys.miner, cache=cache, limits=limits) as miner:
        pool = concurrent.futures.ThreadPoolExecutor(2)
        busy = pool.submit(_post, miner, keys.validator, "gate")
        _wait_for(lambda: miner.engine.calls == 1)
        resp, took = _post(miner, keys.whale, "late", deadline_s=30)
        assert resp.status_code == 503 and 0.25 < took < 1.5
        miner.engine.release.set()
        assert busy.result()[0].status_code == 200


def test_timed_out_engine_call_keeps_its_slot_until_the_thread_returns(keys, cache):
    limits = _limits(max_in_flight=1, max_waiting=0)
    with running_miner(keys.miner, cache=cache, limits=limits) as miner:
        resp, _ = _post(miner, keys.validator, "sleep:1.2", deadline_s=0.3)
        answer = ClaySynapseResponse.model_validate_json(resp.content)
        assert answer.status == "error"
        assert _post(miner, keys.whale, "next")[0].status_code == 503  # the thread still runs
        time.sleep(1.2)
        assert _post(miner, keys.whale, "next")[0].status_code == 200


def test_fifty_validators_at_once_all_get_verified_answers(tmp_path):
    miner_wallet = make_hotkey(tmp_path, "miner")
    validators = [make_hotkey(tmp_path, f"v{i}") for i in range(50)]
    snap = snapshot_with(
        [(v.hotkey.ss58_address, 10.0 + i, True) for i, v in enumerate(validators)]
    )
    cache = MetagraphCache(lambda: snap, refresh_s=3600, initial=snap)
    limits = _limits(max_in_flight=16, max_waiting=64, max_queue_wait_s=10.0)

    async def storm(url: str, hotkey: str):
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=60)) as http:
            tasks = [
                query_miner(http, v, hotkey, url, inference(f"q{i}"), 15.0, 1 << 20)
                for i, v in enumerate(validators)
            ]
            return await asyncio.gather(*tasks)

    with running_miner(miner_wallet, cache=cache, limits=limits) as miner:
        outcomes = asyncio.run(storm(miner.url, miner.hotkey))
    assert all(o.ok for o in outcomes), [o.detail for o in outcomes if not o.ok][:3]
    answers = sorted(o.response.result.response for o in outcomes)
    assert answers == sorted(f"echo: q{i}" for i in range(50))
    assert miner.engine.calls == 50


def test_shutdown_lets_in_flight_requests_finish(keys, cache):
    with running_miner(keys.miner, cache=cache, limits=_limits(max_in_flight=4)) as miner:
        pool = concurrent.futures.ThreadPoolExecutor(3)
        futures = [pool.submit(_post, miner, keys.validator, "sleep:1.0") for _ in range(3)]
        _wait_for(lambda: miner.engine.calls == 3)
        miner.server.should_exit = True  # what uvicorn's SIGTERM/SIGINT handler does
        for future in futures:
            resp, _ = future.result(timeout=10)
            assert resp.status_code == 200
            assert ClaySynapseResponse.model_validate_json(resp.content).status == "ok"
        miner.thread.join(timeout=10)
        assert not miner.thread.is_alive()
        with pytest.raises(httpx.ConnectError):
            _post(miner, keys.validator, "after")


def test_admission_controller_counts_slots_exactly():
    async def scenario():
        adm = AdmissionController(2, max_waiting=0)
        assert await adm.acquire(1.0, 0.1) and await adm.acquire(1.0, 0.1)
        assert not await adm.acquire(99.0, 0.1)  # no queue: refused at once
        adm.release()
        assert adm.in_flight == 1
        assert await adm.acquire(0.0, 0.1)
        adm.release()
        adm.release()
        return adm.in_flight

    assert asyncio.run(scenario()) == 0
