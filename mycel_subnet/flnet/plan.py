"""What a `mycel fl` run will do, decided from the flags before anything starts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

BEHAVIOURS = ("honest", "noise", "copy")


@dataclass(frozen=True)
class FlPlan:
    honest: int = 3
    noise: int = 1
    copy: int = 1
    rounds: int = 3
    examples: int = 512  # private texts per miner shard
    heldout: int = 128  # the validator's own held-out texts (half score, half report)
    batch_size: int = 64
    local_steps: int = 10
    noise_multiplier: float = 1.0
    epsilon_budget: float = 10.0
    timeout_s: float = 60.0
    base_port: int = 18191
    out_dir: Path = field(default_factory=lambda: default_out_dir())

    def __post_init__(self) -> None:
        if not 1 <= self.honest <= 16:
            raise ValueError(f"--honest must be between 1 and 16, got {self.honest}")
        if not 0 <= self.noise <= 8 or not 0 <= self.copy <= 8:
            raise ValueError("--noise and --copy must be between 0 and 8")
        if not 1 <= self.rounds <= 50:
            raise ValueError(f"--rounds must be between 1 and 50, got {self.rounds}")
        if not 16 <= self.examples <= 100_000:
            raise ValueError(f"--examples must be between 16 and 100000, got {self.examples}")
        if not 8 <= self.heldout <= 100_000:
            raise ValueError(f"--heldout must be between 8 and 100000, got {self.heldout}")
        if not 1024 <= self.base_port <= 65535 - self.miners:
            raise ValueError(f"--base-port must leave room for {self.miners} ports")
        if not self.noise_multiplier > 0:
            raise ValueError("--noise-multiplier must be > 0 (federated rounds keep DP)")

    @property
    def miners(self) -> int:
        return self.honest + self.noise + self.copy

    @property
    def behaviours(self) -> list[str]:
        """Honest miners first; copiers copy the honest miners in turn."""
        return ["honest"] * self.honest + ["noise"] * self.noise + ["copy"] * self.copy

    @property
    def ports(self) -> list[int]:
        return [self.base_port + i for i in range(self.miners)]


def default_out_dir() -> Path:
    return Path("fl-out") / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
