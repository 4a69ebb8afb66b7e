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
    """The local log always; the NEAR reputation contract too when a NEAR account is configured:
    on the embedded ledger (`local`), or on testnet/mainnet/an RPC URL with the account's key.

    The account must be the reputation contract's owner or allow-listed by it (`add_validator`),
    or every mirror is refused ("Unauthorized") and logged; scoring goes on regardless.
    """
    mirrors: list[RewardMirror] = [LocalRewardLog(Path(state_dir) / REWARDS_FILE)]
    if not getattr(near, "account_id", None):
        return MirrorChain(mirrors)
    from mycel_subnet.near.client import make_registry_client
    from mycel_subnet.near.mirror import NearRewardMirror

    key = near.private_key.get_secret_value() if near.private_key else None
    if near.network != "local" and not key:
        log.warning("NEAR mirroring to %s needs the account's key (MYCEL_NEAR__PRIVATE_KEY); "
                    "rewards are recorded locally only", near.network)  # fmt: skip
        return MirrorChain(mirrors)
    client = make_registry_client(near.network, near.account_id, private_key=key,
                                  reputation=near.reputation_contract,
                                  registry=near.registry_contract)  # fmt: skip
    mirrors.append(NearRewardMirror(client))
    log.info("mirroring rewards to %s on NEAR %s as %s", near.reputation_contract,
             near.network, near.account_id)  # fmt: skip
    return MirrorChain(mirrors)
