"""The miner's intelligence engines behind `mycel_subnet.engines.interface.MinerEngine`: the honest
PatternEngine (deterministic baseline, or with a local model first), the devnet's deliberately
weak engines, and `build_engine` to choose one from settings."""

from mycel_subnet.engines.demo import ConstantEngine, CopierEngine, RandomEngine, SlowEngine
from mycel_subnet.engines.factory import build_engine
from mycel_subnet.engines.pattern_engine import PatternEngine

__all__ = [
    "ConstantEngine",
    "CopierEngine",
    "PatternEngine",
    "RandomEngine",
    "SlowEngine",
    "build_engine",
]
