"""Local pattern storage (PatternStore) and discovery/ranking (PatternDiscovery)."""

from mycel_subnet.patterns.discovery import (
    DiscoveryResult,
    PatternDiscovery,
    RankedPattern,
    RecordOutcome,
)
from mycel_subnet.patterns.ranking import DEFAULT_WEIGHTS, RankingWeights, ScoreBreakdown
from mycel_subnet.patterns.search_index import IndexSettings
from mycel_subnet.patterns.store import (
    EmbedderMismatch,
    PatternStore,
    PatternStoreError,
    TamperedPattern,
    UnknownPattern,
    UsageStats,
)

__all__ = [
    "DEFAULT_WEIGHTS",
    "DiscoveryResult",
    "EmbedderMismatch",
    "IndexSettings",
    "PatternDiscovery",
    "PatternStore",
    "PatternStoreError",
    "RankedPattern",
    "RankingWeights",
    "RecordOutcome",
    "ScoreBreakdown",
    "TamperedPattern",
    "UnknownPattern",
    "UsageStats",
]
