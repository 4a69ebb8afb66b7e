"""Weights from the moving averages, set at the cadence the chain allows.

Before anything is signed: is this hotkey registered, does it hold a validator permit, does it
have the subnet's minimum stake? If not, say so once, clearly, and keep scoring. The rate limit
is tracked by block (the chain's `last_update` for our uid and our own record). A refused or
failed attempt is logged with its reason and retried at a later step; it never touches the
scores. version_key is the package's spec version; ChainPort refuses to send one below the
subnet's weights_version (STALE_VERSION_KEY).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mycel_subnet.chain.types import ChainErrorKind, Hyperparameters, MetagraphSnapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WeightAttempt:
    """What happened at one step: set, not_due, cannot, empty or failed."""

    status: str
    message: str
    block: int
    uids: list[int] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    error: ChainErrorKind | None = None

    @property
    def ok(self) -> bool:
        return self.status == "set"


U16_STEP = 1 / 65535  # the smallest weight that survives the chain's u16 quantisation


@dataclass(frozen=True)
class WeightPolicy:
    """How moving averages become weight mass (settings under `validator.`)."""

    sharpen_power: float = 2.0
    floor: float = 0.2
    floor_policy: str = "equal"  # or "burn"
    burn_uid: int = 0


def shaped_scores(scores: Mapping[int, float], policy: WeightPolicy) -> dict[int, float]:
    """Scores raised to `sharpen_power` (as SN1 and Affine sharpen toward the best); with the
    "burn" policy and nobody above the floor, all mass goes to `burn_uid`."""
    if policy.floor_policy == "burn" and not any(s > policy.floor for s in scores.values()):
        return {policy.burn_uid: 1.0}
    return {uid: max(0.0, s) ** policy.sharpen_power for uid, s in scores.items()}


def normalised_weights(
    scores: Mapping[int, float],
    graph: MetagraphSnapshot,
    exclude: set[int],
    min_allowed: int = 0,
) -> tuple[list[int], list[float]]:
    """Scores of registered uids (not ours) scaled to sum 1; empty when nobody scored.

    The chain refuses a weight vector shorter than the subnet's `min_allowed_weights` (capped
    at the subnet size). When fewer miners scored, other registered uids are added with the
    smallest weight that survives u16 quantisation (lowest uids first), so the weights still
    land and the ones that earned something keep almost all of the mass.
    """
    present = sorted(n.uid for n in graph.neurons)
    pairs = [
        (uid, max(0.0, float(score)))
        for uid, score in sorted(scores.items())
        if uid in present and uid not in exclude
    ]
    total = sum(score for _, score in pairs)
    if total <= 0:
        return [], []
    kept = {uid: score / total for uid, score in pairs if score > 0}
    needed = min(int(min_allowed), len(present)) - len(kept)
    if needed > 0:
        floor = max(kept.values()) * U16_STEP * 2
        for uid in present:
            if needed <= 0:
                break
            if uid not in kept and uid not in exclude:
                kept[uid] = floor
                needed -= 1
        total = sum(kept.values())
        kept = {uid: w / total for uid, w in kept.items()}
    ordered = sorted(kept.items())
    return [uid for uid, _ in ordered], [w for _, w in ordered]


def cannot_set_reason(graph: MetagraphSnapshot, hp: Hyperparameters, hotkey: str) -> str | None:
    """Why this hotkey cannot set weights right now, or None if it can."""
    me = graph.by_hotkey(hotkey)
    if me is None:
        return f"hotkey {hotkey} is not registered on netuid {graph.netuid}"
    if not me.validator_permit:
        return (
            f"uid {me.uid} has no validator permit (stake {me.stake:.4g}); permits go to the "
            "highest-staked neurons at each epoch: add stake and wait for the next epoch"
        )
    if me.stake < hp.min_stake_for_permit:
        return (
            f"uid {me.uid} has stake {me.stake:.4g}, below the subnet's minimum "
            f"{hp.min_stake_for_permit:.4g} to set weights"
        )
    return None


class WeightSetter:
    """Decides when to set weights and sets them through the ChainPort."""

    def __init__(
        self, chain: Any, hotkey: str, version_key: int, policy: WeightPolicy | None = None
    ) -> None:
        self.chain = chain
        self.hotkey = hotkey
        self.version_key = int(version_key)
        self.policy = policy or WeightPolicy()
        self.last_set_block: int | None = None
        self._last_reason: str | None = None

    def due(self, graph: MetagraphSnapshot, block: int, rate_limit: int) -> bool:
        me = graph.by_hotkey(self.hotkey)
        chain_last = me.last_update if me is not None else 0
        if self.last_set_block is not None and block < self.last_set_block:
            self.last_set_block = None  # the chain was reset: only its own record counts
        last = max(chain_last, self.last_set_block or 0)
        if self.last_set_block is None and chain_last == 0:
            return True
        return block - last >= rate_limit

    def attempt(
        self,
        graph: MetagraphSnapshot,
        hp: Hyperparameters,
        scores: Mapping[int, float],
        block: int,
        *,
        force: bool = False,
    ) -> WeightAttempt:
        """One attempt; `force` skips our own rate-limit check (the chain still enforces it)."""
        reason = cannot_set_reason(graph, hp, self.hotkey)
        if reason is not None:
            if reason != self._last_reason:
                log.warning("this hotkey cannot set weights: %s", reason)
            self._last_reason = reason
            return WeightAttempt("cannot", reason, block)
        if self._last_reason is not None:
            log.info("this hotkey can set weights again")
        self._last_reason = None
        if not force and not self.due(graph, block, hp.weights_rate_limit):
            return WeightAttempt("not_due", "weights rate limit not yet passed", block)
        me = graph.by_hotkey(self.hotkey)
        uids, weights = normalised_weights(
            shaped_scores(scores, self.policy), graph, {me.uid} if me else set(),
            hp.min_allowed_weights,
        )  # fmt: skip
        if not uids:
            return WeightAttempt("empty", "no miner has a positive score yet", block)
        result = self.chain.set_weights(uids, weights, self.version_key)
        if result.ok:
            self.last_set_block = result.block or block
            log.info("set weights for %d uids at block %d", len(uids), self.last_set_block)
            return WeightAttempt("set", result.message, self.last_set_block, uids, weights)
        if result.error is ChainErrorKind.RATE_LIMITED:
            log.warning("weights refused: rate limited by the chain (%s); retrying later",
                        result.message)  # fmt: skip
        elif result.error is ChainErrorKind.STALE_VERSION_KEY:
            log.error("weights refused: %s", result.message)
        else:
            log.warning("setting weights failed (%s): %s; retrying later", result.error,
                        result.message)  # fmt: skip
        return WeightAttempt("failed", result.message, block, uids, weights, result.error)
