"""`query_miner` against a hostile miner on loopback: every shape of answer ends fast, named.

Each case runs over httpx's own pool and over the aiohttp transport. A "fast" case must end well
before its deadline (it is refused on sight, not timed out); a slow one must end at its
deadline, not when the miner stops. The bomb cases also show that memory stays bounded
(tracemalloc peak) and that the event loop keeps running (a ticker task keeps ticking).
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc

import httpx
import pytest

from mycel_subnet.transport.aiohttp_transport import AiohttpTransport
from mycel_subnet.transport.client import QueryErrorKind, QueryOutcome, query_miner
from tests.miner.harness import inference, make_hotkey
from tests.transport.hostile_server import (
    BOMB_INFLATED_BYTES,
    HostileServer,
    deflate_bomb,
    stacked_gzip_bomb,
)

CAP = 1 << 20  # max_response_bytes, the validator's default
FAST_TIMEOUT_S = 10.0  # generous: a refusal on sight must come long before it
SLOW_TIMEOUT_S = 2.0
MEMORY_BOUND = 16 << 20  # far below the 256 MiB a bomb inflates to


@pytest.fixture(scope="module")
def wallets(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("w")
    return {name: make_hotkey(tmp, name) for name in ("miner", "validator")}


@pytest.fixture(scope="module")
def hostile(wallets):
    stacked_gzip_bomb(), deflate_bomb()  # built once, before anything is measured
    with HostileServer(wallets["miner"]).running() as server:
        yield server


@pytest.fixture(params=["httpx", "aiohttp"])
def kind(request):
    return request.param


async def _ask(hostile, wallets, kind, timeout_s) -> QueryOutcome:
    transport = AiohttpTransport() if kind == "aiohttp" else None
    async with httpx.AsyncClient(transport=transport) as http:
        return await query_miner(
            http,
            wallets["validator"],
            wallets["miner"].hotkey.ss58_address,
            hostile.url,
            inference("q"),
            timeout_s,
            CAP,
        )


def _query(hostile, wallets, kind, mode, timeout_s=FAST_TIMEOUT_S) -> QueryOutcome:
    hostile.mode = mode
    return asyncio.run(_ask(hostile, wallets, kind, timeout_s))


def test_the_validator_asks_for_identity_and_accepts_it(hostile, wallets, kind):
    out = _query(hostile, wallets, kind, "identity")
    assert out.ok, out.detail
    assert out.response.result.response == "hostile"
    assert hostile.request_headers[-1]["accept-encoding"] == "identity"


def test_a_large_valid_body_within_the_cap_is_accepted(hostile, wallets, kind):
    out = _query(hostile, wallets, kind, "padded")
    assert out.ok, out.detail
    assert len(out.body) > 900_000 and out.response.result.response == "hostile"


@pytest.mark.parametrize("mode", ["gzip_bomb", "deflate", "br"])
def test_encoded_responses_are_refused_unread(hostile, wallets, kind, mode):
    out = _query(hostile, wallets, kind, mode)
    assert out.error is QueryErrorKind.ENCODED, out.detail
    assert "only identity" in out.detail and out.status_code == 200
    assert out.latency_s < FAST_TIMEOUT_S / 2


def test_stacked_gzip_bomb_keeps_memory_bounded(hostile, wallets, kind):
    assert len(stacked_gzip_bomb()) < 2048 and BOMB_INFLATED_BYTES >= 256 << 20
    hostile.mode = "gzip_bomb"
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        out = asyncio.run(_ask(hostile, wallets, kind, FAST_TIMEOUT_S))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.error is QueryErrorKind.ENCODED
    assert peak < MEMORY_BOUND, f"peak {peak / 2**20:.1f} MiB"


@pytest.mark.parametrize("mode", ["gzip_bomb", "deflate", "endless_chunked", "tiny_chunks"])
def test_the_event_loop_keeps_ticking(hostile, wallets, kind, mode):
    """A ticker on the same loop as the query: no gap near the ~1 s that inflating takes."""
    hostile.mode = mode

    async def go() -> tuple[QueryOutcome, float, int]:
        gaps, ticks = [0.0], [0]

        async def ticker() -> None:
            last = time.perf_counter()
            while True:
                await asyncio.sleep(0.005)
                now = time.perf_counter()
                gaps.append(now - last)
                ticks[0] += 1
                last = now

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0.02)
        try:
            out = await _ask(hostile, wallets, kind, FAST_TIMEOUT_S)
            await asyncio.sleep(0.02)
        finally:
            task.cancel()
        return out, max(gaps), ticks[0]

    out, worst_gap, ticks = asyncio.run(go())
    assert not out.ok and out.error is not QueryErrorKind.TIMEOUT, out
    assert ticks >= 2 and worst_gap < 0.5, f"event loop blocked {worst_gap:.2f}s"


def test_endless_chunked_body_hits_the_byte_cap(hostile, wallets, kind):
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        out = _query(hostile, wallets, kind, "endless_chunked")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.error is QueryErrorKind.OVERSIZED, out.detail
    assert f"exceeds {CAP} bytes" in out.detail
    assert out.latency_s < FAST_TIMEOUT_S / 2
    assert peak < MEMORY_BOUND, f"peak {peak / 2**20:.1f} MiB"


def test_one_byte_chunks_are_cut_off_long_before_the_byte_cap(hostile, wallets, kind):
    """A parser call per byte would burn the loop until the deadline; the piece cap ends it."""
    out = _query(hostile, wallets, kind, "tiny_chunks")
    assert out.error is QueryErrorKind.FRAGMENTED, out.detail
    assert "more than 4096 pieces" in out.detail
    assert out.latency_s < FAST_TIMEOUT_S / 2


def test_a_huge_content_length_is_refused_before_reading(hostile, wallets, kind):
    out = _query(hostile, wallets, kind, "huge_length")
    assert out.error is QueryErrorKind.OVERSIZED
    assert "declared Content-Length 1000000000000" in out.detail
    assert out.latency_s < FAST_TIMEOUT_S / 2


@pytest.mark.parametrize(
    ("mode", "where"),
    [
        ("trickle", "body incomplete"),  # a valid signed body at 1 byte/s
        ("short_length", "body incomplete after 10 bytes"),  # 1000 declared, 10 sent
        ("slow_headers", "no response headers"),  # the status line at 1 byte/s
        ("hang", "no response headers"),
    ],
)
def test_slow_miners_end_at_the_deadline(hostile, wallets, kind, mode, where):
    out = _query(hostile, wallets, kind, mode, timeout_s=SLOW_TIMEOUT_S)
    assert out.error is QueryErrorKind.TIMEOUT, out.detail
    assert where in out.detail
    assert SLOW_TIMEOUT_S * 0.9 <= out.latency_s < SLOW_TIMEOUT_S + 1.0


def test_a_flood_of_headers_is_refused(hostile, wallets, kind):
    out = _query(hostile, wallets, kind, "many_headers")
    assert not out.ok and out.error is not QueryErrorKind.TIMEOUT, out
    assert out.latency_s < FAST_TIMEOUT_S / 2


@pytest.mark.parametrize(
    ("mode", "expected", "needle"),
    [
        ("invalid_json", QueryErrorKind.MALFORMED, "Invalid JSON"),
        ("nested_json", QueryErrorKind.MALFORMED, "recursion limit"),
        ("nested_refusal", QueryErrorKind.HTTP_ERROR, "HTTP 400"),
    ],
)
def test_bad_json_is_named_not_raised(hostile, wallets, kind, mode, expected, needle):
    """Signed, within the cap, and still refused: the decode is bounded (no RecursionError)."""
    out = _query(hostile, wallets, kind, mode)
    assert out.error is expected, out.detail
    assert needle in out.detail and "\n" not in out.detail
    assert out.latency_s < FAST_TIMEOUT_S / 2
