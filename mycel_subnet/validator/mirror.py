"""The reward-mirror hook called after every successful weight setting.

`RewardMirror` is the interface: `record_rewards(epoch, rewards)` with hotkey -> reward.
`mycel_subnet.near.mirror.NearRewardMirror` implements it on the NEAR reputation contract; the
local default, `LocalRewardLog`, appends each mirrored round to a JSON-lines file in the state
dir (what the devnet report reads). A mirror failure is logged and never stops the validator.

On NEAR the mirror is wrapped in `ResetSafeMirror`, which does two things first:
- bindings: it confirms the pending hotkey -> NEAR account bindings of the hotkeys it is about
  to reward whose signatures verify (`validator/bindings.py`); the contract then credits a
  confirmed-bound hotkey's reward to its account;
- epochs that survive a chain reset: the contract refuses any epoch not above the last one
  this validator recorded, and the epoch is the block of the weight setting. After a chain
  reset the blocks start again from 1, and every mirror would be refused as stale, silently.
  `EpochClock` maps blocks to epochs with an offset kept in the state dir
  (`mirror_epochs.json`): when the block goes below the last mirrored block, or the contract
  says it already holds a later epoch for a block this validator never mirrored, the offset
  moves so the epochs go on increasing, with one WARNING line and a note in the step log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from mycel_subnet.validator.bindings import BindingBook

log = logging.getLogger(__name__)
REWARDS_FILE = "near_rewards.jsonl"
EPOCHS_FILE = "mirror_epochs.json"
STALE = re.compile(r"Stale epoch: (\d+) <= (\d+)")


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

    def take_notes(self) -> list[str]:
        """What the mirrors did that the step log should say (bindings, chain resets)."""
        return [n for m in self.mirrors for n in take_notes(m)]

    async def record_rewards(self, epoch: int, rewards: Mapping[str, float]) -> list[Any]:
        outcomes = []
        for mirror in self.mirrors:
            try:
                outcomes.append(await mirror.record_rewards(epoch, rewards))
            except Exception as error:
                log.warning("reward mirror %s failed: %s", type(mirror).__name__, error)
                outcomes.append(error)
        return outcomes


def take_notes(mirror: Any) -> list[str]:
    """Drain a mirror's notes, if it keeps any."""
    take = getattr(mirror, "take_notes", None)
    return list(take()) if callable(take) else []


@dataclass
class EpochState:
    offset: int = 0
    last_block: int | None = None
    last_epoch: int | None = None
    resets: int = 0


class EpochClock:
    """Block -> NEAR epoch, increasing across chain resets; persisted after every change."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.state = self._load()

    def _load(self) -> EpochState:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return EpochState(int(data["offset"]), data.get("last_block"),
                              data.get("last_epoch"), int(data.get("resets", 0)))  # fmt: skip
        except FileNotFoundError:
            return EpochState()
        except (ValueError, KeyError, TypeError) as error:
            log.warning("%s is unreadable (%s): NEAR epochs start from the block again",
                        self.path, error)  # fmt: skip
            return EpochState()

    def _save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        data = json.dumps(self.state.__dict__, sort_keys=True)
        with tmp.open("w", encoding="utf-8") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def is_new(self, block: int) -> bool:
        """Whether `block` is past the last mirrored one (or nothing was mirrored yet)."""
        return self.state.last_block is None or block > self.state.last_block

    def epoch_for(self, block: int) -> tuple[int, str | None]:
        """The epoch to record `block` under, and a note when a chain reset was detected."""
        state = self.state
        if state.last_block is not None and block < state.last_block:
            last = state.last_epoch if state.last_epoch is not None else state.last_block
            old = state.offset
            state.offset = last + 1 - block
            state.resets += 1
            self._save()
            note = (f"chain reset: block {block} is below the last mirrored block "
                    f"{state.last_block}; NEAR epochs go on from {last + 1} "
                    f"(offset {old} -> {state.offset})")  # fmt: skip
            return block + state.offset, note
        return block + state.offset, None

    def adopt(self, block: int, contract_last: int) -> str:
        """The contract already holds `contract_last` for this validator: continue above it."""
        old = self.state.offset
        self.state.offset = contract_last + 1 - block
        self.state.resets += 1
        self._save()
        return (f"NEAR already holds epoch {contract_last} for this validator at block {block} "
                f"(a chain reset, or lost state): epochs go on from {contract_last + 1} "
                f"(offset {old} -> {self.state.offset})")  # fmt: skip

    def commit(self, block: int, epoch: int) -> None:
        self.state.last_block, self.state.last_epoch = block, epoch
        self._save()


class ResetSafeMirror:
    """The NEAR mirror behind binding confirmation and the reset-safe epoch clock."""

    def __init__(self, inner: Any, clock: EpochClock, bindings: BindingBook | None = None):
        self.inner = inner  # a NearRewardMirror: record_rewards(epoch, rewards) -> MirrorResult
        self.clock = clock
        self.bindings = bindings
        self._notes: list[str] = []

    def take_notes(self) -> list[str]:
        notes, self._notes = self._notes, []
        return notes

    def _note(self, line: str) -> None:
        log.warning("near mirror: %s", line)
        self._notes.append(line)

    async def record_rewards(self, block: int, rewards: Mapping[str, float]) -> Any:
        if self.bindings is not None:
            try:
                self._notes += await self.bindings.refresh(list(rewards))
            except Exception as error:  # bindings never cost the mirror
                log.warning("binding refresh failed: %s", error)
        new = self.clock.is_new(block)
        epoch, note = self.clock.epoch_for(block)
        if note:
            self._note(note)
        result = await self.inner.record_rewards(epoch, rewards)
        stale = STALE.search(getattr(result, "error", None) or "")
        if getattr(result, "status", "") == "already_recorded" and new and stale:
            contract_last = int(stale.group(2))
            self._note(self.clock.adopt(block, contract_last))
            epoch = block + self.clock.state.offset
            result = await self.inner.record_rewards(epoch, rewards)
        if getattr(result, "status", "") == "recorded":
            self.clock.commit(block, epoch)
        return result

    async def close(self) -> None:
        await self.inner.close()


def open_near_client(near: Any) -> Any:
    """The validator's NEAR client (its account signs mirrors, confirmations, attestations), or
    None when no account is configured or a remote network has no key (one warning)."""
    if not getattr(near, "account_id", None):
        return None
    from mycel_subnet.near.client import make_registry_client

    key = near.private_key.get_secret_value() if near.private_key else None
    if near.network != "local" and not key:
        log.warning("NEAR mirroring to %s needs the account's key (MYCEL_NEAR__PRIVATE_KEY); "
                    "rewards are recorded locally only", near.network)  # fmt: skip
        return None
    return make_registry_client(near.network, near.account_id, private_key=key,
                                reputation=near.reputation_contract,
                                registry=near.registry_contract)  # fmt: skip


def build_mirror(
    state_dir: Path, near: Any, *, client: Any = None, bindings: BindingBook | None = None
) -> MirrorChain:
    """The local log always; the NEAR reputation contract too when a NEAR account is configured:
    on the embedded ledger (`local`), or on testnet/mainnet/an RPC URL with the account's key.

    The account must be the reputation contract's owner or allow-listed by it (`add_validator`),
    or every mirror is refused ("Unauthorized") and logged; scoring goes on regardless. `client`
    is the account's client when the caller opened one already (`open_near_client`); with
    `bindings`, pending bindings of rewarded hotkeys are confirmed before each mirror (by
    default, whenever the client can read bindings).
    """
    mirrors: list[RewardMirror] = [LocalRewardLog(Path(state_dir) / REWARDS_FILE)]
    client = client if client is not None else open_near_client(near)
    if client is None:
        return MirrorChain(mirrors)
    from mycel_subnet.near.mirror import NearRewardMirror

    if bindings is None and callable(getattr(client, "get_binding", None)):
        bindings = BindingBook(client)
    clock = EpochClock(Path(state_dir) / EPOCHS_FILE)
    mirrors.append(ResetSafeMirror(NearRewardMirror(client), clock, bindings))
    log.info("mirroring rewards to %s on NEAR %s as %s", near.reputation_contract,
             near.network, near.account_id)  # fmt: skip
    return MirrorChain(mirrors)
