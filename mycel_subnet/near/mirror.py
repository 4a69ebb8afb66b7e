"""Mirror each validator weight-setting to the NEAR reputation contract.

After the validator sets weights, it hands the per-miner rewards of that round to
`NearRewardMirror.record_rewards(epoch, rewards)`. The mirror scales them to 0..1 against the
round's best miner (so the score says "how close to the best", whatever the subnet size), turns
them into ppm, maps hotkeys to NEAR accounts where the operator configured one (otherwise the
SS58 hotkey itself is the subject) and calls ReputationSystem.record_validator_rewards. A NEAR
outage never stops the validator: failures are logged (without secrets) and reported.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass

from mycel_subnet.near.client import RegistryClient, RegistryError

log = logging.getLogger(__name__)

PPM = 1_000_000
MAX_ENTRIES = 256  # a subnet's maximum number of UIDs
PART_SIZE = 128  # the contract's bound per call: a larger mirror goes as parts of one epoch


@dataclass(frozen=True)
class MirrorResult:
    """What happened to one mirror attempt."""

    epoch: int
    recorded: int
    status: str  # "recorded", "already_recorded", "empty" or "failed"
    error: str | None = None


def reward_scores_ppm(rewards: Mapping[str, float]) -> dict[str, int]:
    """Scale rewards so the best miner gets 1_000_000 ppm; all-zero rounds give zeros."""
    for subject, value in rewards.items():
        if not isinstance(value, int | float) or math.isnan(value) or value < 0:
            raise ValueError(f"reward for {subject!r} must be a finite number >= 0, got {value!r}")
        if math.isinf(value):
            raise ValueError(f"reward for {subject!r} must be finite")
    best = max(rewards.values(), default=0.0)
    if best <= 0:
        return dict.fromkeys(rewards, 0)
    return {subject: round(value / best * PPM) for subject, value in rewards.items()}


class NearRewardMirror:
    """Records a validator's per-miner rewards on the reputation contract."""

    def __init__(
        self, client: RegistryClient, *, accounts: Mapping[str, str] | None = None
    ) -> None:
        self.client = client
        self.accounts = dict(accounts or {})

    async def record_rewards(self, epoch: int, rewards: Mapping[str, float]) -> MirrorResult:
        """Mirror one weight-setting (`epoch`: its block number or epoch index, increasing)."""
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"epoch must be a non-negative integer, got {epoch!r}")
        scores = reward_scores_ppm(rewards)
        entries: dict[str, int] = {}
        for hotkey, score in scores.items():
            subject = self.accounts.get(hotkey, hotkey)
            entries[subject] = max(entries.get(subject, 0), score)
        if not entries:
            return MirrorResult(epoch, 0, "empty")
        if len(entries) > MAX_ENTRIES:
            top = sorted(entries.items(), key=lambda kv: kv[1], reverse=True)[:MAX_ENTRIES]
            log.warning("near mirror: %d subjects, keeping the best %d", len(entries), MAX_ENTRIES)
            entries = dict(top)
        subjects = sorted(entries)
        parts = [subjects[i : i + PART_SIZE] for i in range(0, len(subjects), PART_SIZE)]
        recorded = 0
        for part, names in enumerate(parts):
            chunk = {name: entries[name] for name in names}
            try:
                done = await self.client.record_validator_rewards(epoch, chunk, part=part)
            except RegistryError as exc:
                if exc.message.startswith("Stale epoch") and part == 0:
                    log.info("near mirror: epoch %d already recorded", epoch)
                    return MirrorResult(epoch, 0, "already_recorded", exc.message)
                if exc.message.startswith("Stale epoch"):
                    continue  # this part arrived before (a retried mirror)
                log.warning("near mirror: epoch %d part %d not recorded: %s", epoch, part,
                            exc.message)  # fmt: skip
                return MirrorResult(epoch, recorded, "failed", exc.message)
            recorded += done.recorded
        log.info("near mirror: epoch %d recorded for %d subjects", epoch, recorded)
        return MirrorResult(epoch, recorded, "recorded")

    async def close(self) -> None:
        await self.client.close()
