"""Deliberately dishonest federated miners, for the devnet and `mycel fl` (never the default).

Each is the cheapest way to try to earn federated credit without the work, and the validator's
scoring (mycel_subnet/validator/fl_scoring.py) must give it none:

* ``noise``: no training at all; Gaussian noise with the per-coordinate spread an honest DP
  update has, so its norm looks right, but it carries no signal.
* ``copy``: waits for a partner miner's update of the same round (its outbox, as colluding
  operators would share it), scales it and submits it as its own: a scaled copy. It answers
  a moment after its partner (COPY_DELAY_S): it does not try to race it.

Both report an accountant history as if they had trained, so the report alone gives them away
no more than a careful cheat would.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import torch

from mycel_subnet.engines.interface import EngineError
from mycel_subnet.federated.adapter import AdapterState
from mycel_subnet.federated.wire import decode_state
from mycel_subnet.storage import ContentStore, StorageError
from protocol import FederatedRoundRequest

OUTBOX = "outbox.json"
COPY_SCALE = 1.5
COPY_WAIT_S = 30.0
# The demo copier does not race its partner's answer to the validator; a copier that did could
# reach it first by milliseconds, and then the original would be taken for the copy (the
# validator's "earliest commit" is its receipt order: docs/federated.md, not done).
COPY_DELAY_S = 0.25


def noise_update(reference: AdapterState, request: FederatedRoundRequest) -> AdapterState:
    """Noise shaped like an honest update's noise: lr * sigma * C / B per step, over the steps."""
    dp = request.dp
    std = dp.lr * dp.noise_multiplier * dp.clip_norm / dp.batch_size * math.sqrt(dp.local_steps)
    generator = torch.Generator().manual_seed(torch.seed() % (2**62))
    return {
        k: torch.normal(0.0, std, size=tuple(v.shape), generator=generator)
        for k, v in sorted(reference.items())
    }


def copy_update(
    partner_dir: Path,
    store: ContentStore,
    reference: AdapterState,
    request: FederatedRoundRequest,
    validator: str,
    *,
    wait_s: float = COPY_WAIT_S,
    scale: float = COPY_SCALE,
) -> AdapterState:
    """The partner's update for this validator's round (from its outbox), times ``scale``."""
    outbox = Path(partner_dir) / OUTBOX
    deadline = time.monotonic() + wait_s
    while True:
        entry = read_outbox(outbox)
        if (
            entry
            and entry.get("validator") == validator
            and entry.get("round") == request.round
            and entry.get("global_hash") == request.global_hash
        ):
            break
        if time.monotonic() > deadline:
            raise EngineError(f"copy: no partner update for round {request.round} in {outbox}")
        time.sleep(0.02)
    time.sleep(COPY_DELAY_S)
    try:
        data = store.get(entry["update_cid"])
    except StorageError as error:
        raise EngineError(f"copy: partner update unavailable: {error}") from None
    partner = decode_state(data, reference, who="partner")
    return {k: v * scale for k, v in partner.items()}


def read_outbox(path: Path) -> dict | None:
    """The last update a miner answered with, as it recorded it; None when absent or torn."""
    try:
        entry = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return entry if isinstance(entry, dict) else None
