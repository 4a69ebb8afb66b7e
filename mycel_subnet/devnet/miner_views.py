"""Wait until every miner's own metagraph view is at least as new as a given block.

A miner admits callers against its cached metagraph, refreshed in the background. The chain
granting the validator its permit is not enough: a miner whose cache predates that block
refuses the validator's first queries with 403 no_validator_permit. Each miner exposes the
block of its cached metagraph on its loopback-only ``/metrics`` route, so the devnet reads that
instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from protocol.synapse import METRICS_ROUTE

BLOCK_METRIC = "mycel_miner_metagraph_block"


def metagraph_block(port: int, host: str = "127.0.0.1", timeout_s: float = 2.0) -> int | None:
    """The block of the miner's cached metagraph, or None when it cannot be read."""
    try:
        response = httpx.get(f"http://{host}:{port}{METRICS_ROUTE}", timeout=timeout_s)
        response.raise_for_status()
    except httpx.HTTPError:
        return None
    for family in text_string_to_metric_families(response.text):
        if family.name == BLOCK_METRIC:
            for sample in family.samples:
                return int(sample.value) if sample.value >= 0 else None
    return None


def wait_for_views(
    ports: list[int],
    block: int,
    timeout_s: float,
    *,
    check: Callable[[], None] = lambda: None,
    poll_s: float = 0.5,
) -> list[int]:
    """Poll each miner until its view reaches ``block``; returns the ports still behind at the
    deadline (empty on success). ``check`` runs each round (e.g. to fail on a dead child)."""
    behind = list(ports)
    deadline = time.monotonic() + timeout_s
    while behind:
        check()
        behind = [p for p in behind if (metagraph_block(p) or -1) < block]
        if not behind or time.monotonic() > deadline:
            break
        time.sleep(poll_s)
    return behind
