"""Helpers for the federated tests: a toy shard on disk, a published global adapter and the
round request a validator would send for it (the real wire types and store, no fakes)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from mycel_subnet.federated.hashing import GLOBAL_DOMAIN
from mycel_subnet.federated.shards import write_shard
from mycel_subnet.federated.toy import TOY_PATTERN, pattern_corpus
from mycel_subnet.federated.wire import encode_state, encoded_size
from protocol import FederatedDp, FederatedRoundRequest

DP = {"clip_norm": 1.0, "noise_multiplier": 1.0, "batch_size": 16, "local_steps": 10,
      "lr": 1.0, "delta": 1e-5, "epsilon_budget": 10.0}  # fmt: skip


def shard(tmp: Path, name: str, seed: int, count: int = 64) -> Path:
    return write_shard(tmp / f"{name}.txt", pattern_corpus(TOY_PATTERN, count, seed=seed))


def publish(store, state) -> tuple[str, str, int]:
    data = encode_state(state, domain=GLOBAL_DOMAIN)
    return store.put(data), hashlib.sha256(data).hexdigest(), len(data)


def request_for(base, store, state, round_no: int = 1, **dp) -> FederatedRoundRequest:
    cid, sha, size = publish(store, state)
    return FederatedRoundRequest(
        round=round_no, base_model=base.name, base_hash=base.base_hash, global_cid=cid,
        global_hash=sha, global_size=size, max_update_bytes=encoded_size(state),
        dp=FederatedDp(**{**DP, **dp}),
    )  # fmt: skip
