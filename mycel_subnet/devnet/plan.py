"""What a devnet run will do, decided from the flags before anything starts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

# The mix of miner engines, in the order miners are started: the honest capability ladder
# (deep > search > reference, the shipped floor), then dishonest ones the incentive must push
# to the bottom (a perturbed copy of the reference, random answers, a constant answer). "llm"
# (deep plus the embedded model) is left out by default: on CPU it only adds load time.
DEFAULT_ENGINES = ("deep", "search", "reference", "copier", "random", "constant")
DEMO_ENGINES = frozenset({"random", "constant", "refuse", "slow", "copier"})
ALL_ENGINES = frozenset({"llm", "deep", "search", "reference", "baseline"}) | DEMO_ENGINES
# Engines whose miners keep no index of the pattern registry, so they fail search tasks: the
# miner serves search from its index whatever its engine, and a "random" miner that searched
# honestly would only blur the table. The copier keeps one (it copies, it does not refuse).
NO_INDEX_ENGINES = frozenset({"random", "constant", "refuse", "slow"})


@dataclass(frozen=True)
class DevnetPlan:
    miners: int = 6
    epochs: int = 6
    block_time_s: float = 0.5
    tempo: int = 20
    base_port: int = 18091
    out_dir: Path = field(default_factory=lambda: default_out_dir())
    chain_path: Path | None = None  # None: a throwaway chain inside out_dir
    keep_chain: bool = False
    engines: tuple[str, ...] = ()
    step_interval_s: float = 2.0
    timeout_s: float = 8.0
    validator_metrics_port: int | None = None
    collective: bool = True  # the registry loop: publish, index, verify, search, find and buy

    def __post_init__(self) -> None:
        if not 1 <= self.miners <= 32:
            raise ValueError(f"--miners must be between 1 and 32, got {self.miners}")
        if not 1 <= self.epochs <= 100:
            raise ValueError(f"--epochs must be between 1 and 100, got {self.epochs}")
        if not 0.05 <= self.block_time_s <= 12:
            raise ValueError(f"--block-time must be between 0.05 and 12 s, got {self.block_time_s}")
        if not 5 <= self.tempo <= 1000:
            raise ValueError(f"--tempo must be between 5 and 1000 blocks, got {self.tempo}")
        if not 1024 <= self.base_port <= 65535 - self.miners - 1:
            raise ValueError(
                f"--base-port must leave room for {self.miners + 1} ports (the miners and the "
                f"gateway), got {self.base_port}"
            )
        unknown = set(self.engines) - ALL_ENGINES
        if unknown:
            raise ValueError(
                f"unknown engine(s) {sorted(unknown)}; choose from {sorted(ALL_ENGINES)}"
            )

    @property
    def miner_engines(self) -> list[str]:
        """One engine per miner: the given list, else the default mix, cycled to length."""
        pool = self.engines or DEFAULT_ENGINES
        return [pool[i % len(pool)] for i in range(self.miners)]

    @property
    def miner_ports(self) -> list[int]:
        return [self.base_port + i for i in range(self.miners)]

    @property
    def gateway_port(self) -> int:
        """The validator's organic gateway listens just above the miners."""
        return self.base_port + self.miners

    def keeps_index(self, engine: str) -> bool:
        """Whether a miner with this engine keeps an index of the registry (search tasks)."""
        return self.collective and engine not in NO_INDEX_ENGINES

    @property
    def chain_file(self) -> Path:
        return self.chain_path or (self.out_dir / "chain.sqlite")

    @property
    def epoch_seconds(self) -> float:
        return self.tempo * self.block_time_s


def default_out_dir() -> Path:
    return Path("devnet-out") / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
