"""The reward-mirror hook called after every successful weight setting.

`RewardMirror` is the interface: `record_rewards(epoch, rewards)` with hotkey -> reward.
`mycel_subnet.near.mirror.NearRewardMirror` implements it on the NEAR reputation contract; the
local default, `LocalRewardLog`, appends each mirrored round to a JSON-lines file in the state
dir (what the devnet report reads). A mirror failure is logged and never stops the validator.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

log = logging.getLogger(__name__)
REWARDS_FILE = "near_rewards.jsonl"


@runtime_checkable
class RewardMirror(Protocol):
    async def record_rewards(self, epoch: int, rewards: Mapping[str, float]) -> Any: ...


class LocalRewardLog:
    """Records mirrored rewards as JSON lines: {"epoch", "ts", "rewards": {hotkey: value}}."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def _append(self, line: str) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    async def record_rewards(self, epoch: int, rewards: Mapping[str, float]) -> str:
        entry = {"epoch": int(epoch), "ts": round(time.time(), 3),
                 "rewards": {k: float(v) for k, v in rewards.items()}}  # fmt: skip
        await asyncio.to_thread(self._append, json.dumps(entry, sort_keys=True))
        return "recorded"


class MirrorChain:
    """Calls several mirrors in order; one failing does not stop the others."""

    def __init__(self, mirrors: list[RewardMirror]) -> None:
        self.mirrors = mirrors

    async def record_rewards(self, epoch: int, rewards: Mapping[str, float]) -> list[Any]:
        outcomes = []
        for mirror in self.mirrors:
            try:
                outcomes.append(await mirror.record_rewards(epoch, rewards))
            except Exception as error:
                log.warning("reward mirror %s failed: %s", type(mirror).__name__, error)
                outcomes.append(error)
        return outcomes


def build_mirror(state_dir: Path, near: Any) -> MirrorChain:
    """The local log always; the NEAR reputation contract on the embedded ledger when a NEAR
    account is configured (remote NEAR networks are wired by a later issue)."""
    mirrors: list[RewardMirror] = [LocalRewardLog(Path(state_dir) / REWARDS_FILE)]
    if getattr(near, "account_id", None):
        if near.network == "local":
            from mycel_subnet.near.client import make_registry_client
            from mycel_subnet.near.mirror import NearRewardMirror

            client = make_registry_client("local", near.account_id,
                                          reputation=near.reputation_contract,
                                          registry=near.registry_contract)  # fmt: skip
            mirrors.append(NearRewardMirror(client))
        else:
            log.warning("NEAR mirroring to %s is not wired yet; rewards are recorded locally",
                        near.network)  # fmt: skip
    return MirrorChain(mirrors)
