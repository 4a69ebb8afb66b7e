"""The miner service's limits, in one value built from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from mycel_subnet.config import MinerSettings
from protocol import limits as L


@dataclass(frozen=True)
class ServiceLimits:
    max_in_flight: int = 8
    max_waiting: int | None = None  # None: as many as max_in_flight
    max_queue_wait_s: float = 0.5  # a saturated miner refuses after this, not at the deadline
    max_body_bytes: int = L.MAX_BODY_BYTES
    rate_limit_per_ip: float = 20.0
    rate_limit_per_hotkey: float = 10.0
    max_deadline_s: float = L.MAX_DEADLINE_S
    deadline_margin_s: float = 0.05  # kept back to serialise, sign and send the answer
    auth_max_age_s: float = 10.0
    miss_refresh_wait_s: float = 2.0  # how long a refused caller waits for an early refresh

    @classmethod
    def from_settings(cls, miner: MinerSettings) -> ServiceLimits:
        return cls(
            max_in_flight=miner.max_in_flight,
            max_body_bytes=miner.max_body_bytes,
            rate_limit_per_ip=miner.rate_limit_per_ip,
            rate_limit_per_hotkey=miner.rate_limit_per_hotkey,
        )
