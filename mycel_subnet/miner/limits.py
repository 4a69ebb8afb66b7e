"""The miner service's limits, in one value built from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from mycel_subnet.config import MinerSettings
from protocol import limits as L

FD_HEADROOM = 256  # descriptors beside the connections: model files, chain socket, logs, sqlite


@dataclass(frozen=True)
class ServiceLimits:
    max_in_flight: int = 8
    max_waiting: int | None = None  # None: three times max_in_flight (a validator step's burst)
    max_queue_wait_s: float = 0.5  # a saturated miner refuses after this, not at the deadline
    max_body_bytes: int = L.MAX_BODY_BYTES
    rate_limit_per_ip: float = 60.0
    rate_limit_per_hotkey: float = 40.0
    max_deadline_s: float = L.MAX_DEADLINE_S
    deadline_margin_s: float = 0.05  # kept back to serialise, sign and send the answer
    auth_max_age_s: float = 10.0
    miss_refresh_wait_s: float = 2.0  # how long a refused caller waits for an early refresh
    # Connection level (mycel_subnet.miner.http_server), enforced before any request parsing.
    max_connections: int = 512
    max_connections_per_ip: int = 64
    idle_timeout_s: float = 5.0  # connect -> first byte
    header_timeout_s: float = 10.0  # first byte -> request head complete
    body_timeout_s: float = 10.0  # head -> body complete (a signature is 10 s fresh anyway)
    keep_alive_s: float = 30.0  # between requests on one connection
    max_connection_bytes: int = 8 * 1_048_576  # bytes one connection may send, all requests
    forwarded_allow_ips: tuple[str, ...] = ()  # X-Forwarded-For trusted only from these peers

    @property
    def nofile_needed(self) -> int:
        """The open-file limit the connection cap needs, with room for everything else."""
        return self.max_connections + FD_HEADROOM

    @classmethod
    def from_settings(cls, miner: MinerSettings) -> ServiceLimits:
        return cls(
            max_in_flight=miner.max_in_flight,
            max_body_bytes=miner.max_body_bytes,
            rate_limit_per_ip=miner.rate_limit_per_ip,
            rate_limit_per_hotkey=miner.rate_limit_per_hotkey,
            max_connections=miner.max_connections,
            max_connections_per_ip=miner.max_connections_per_ip,
            idle_timeout_s=miner.idle_timeout_s,
            header_timeout_s=miner.header_timeout_s,
            body_timeout_s=miner.body_timeout_s,
            keep_alive_s=miner.keep_alive_s,
            max_connection_bytes=max(miner.max_connection_bytes, 2 * miner.max_body_bytes),
            forwarded_allow_ips=tuple(miner.forwarded_allow_ips),
        )
