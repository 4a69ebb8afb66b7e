"""A pattern's full metadata (the canonical LearnedPattern JSON) stored by CID.

The NEAR registry's `register_pattern(pattern_hash, metadata_cid, domain, price_per_use)` keeps
only the content hash and this CID on chain; anyone can fetch the JSON by CID, and the pattern's
id (recomputed from its content when it is parsed) must equal the registered pattern_hash.
Canonical JSON (sorted keys, no spaces, NFC strings) means the same pattern always gets the
same CID. A pattern's local usage statistics never leave raw in it: they are zeroed, or
replaced by a differentially private release (mycel_subnet.privacy.dp_stats).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pydantic import ValidationError

from mycel_subnet.storage.base import ContentStore
from mycel_subnet.storage.errors import StorageError
from protocol.pattern import LearnedPattern, canonical_content_bytes

if TYPE_CHECKING:
    from mycel_subnet.privacy.dp_stats import StatsRelease

MAX_METADATA_BYTES = 1024 * 1024
RAW_STATS_REMOVED = {"usage_count": 0, "success_rate": 0.0, "avg_rating": 0.0}


class InvalidMetadata(StorageError, ValueError):
    """The bytes under a metadata CID are not a valid LearnedPattern (or not the one expected)."""


def metadata_bytes(pattern: LearnedPattern, stats: StatsRelease | None = None) -> bytes:
    """The published JSON: quality signals from the DP release `stats`, else zero."""
    data = pattern.model_dump(mode="json")
    if stats is not None and stats.pattern_id != pattern.id:
        raise ValueError(f"statistics of {stats.pattern_id} given for pattern {pattern.id}")
    data.update(RAW_STATS_REMOVED if stats is None else stats.bounded())
    return canonical_content_bytes(data)


def put_pattern_metadata(
    pattern: LearnedPattern, store: ContentStore, *, stats: StatsRelease | None = None
) -> str:
    """Store the pattern's canonical JSON; its CID is the `metadata_cid` to register."""
    return store.put(metadata_bytes(pattern, stats))


def get_pattern_metadata(
    cid: str, store: ContentStore, *, expected_pattern_hash: str | None = None
) -> LearnedPattern:
    """The pattern stored under `cid`, validated; optionally checked against its registered hash."""
    raw = store.get(cid, max_size=MAX_METADATA_BYTES)
    try:
        pattern = LearnedPattern.model_validate(json.loads(raw))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidMetadata(f"metadata {cid} is not JSON: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(root)"
        raise InvalidMetadata(
            f"metadata {cid} is not a valid pattern: {where}: {first['msg']}"
        ) from None
    if expected_pattern_hash is not None and pattern.id != expected_pattern_hash:
        raise InvalidMetadata(
            f"metadata {cid} describes pattern {pattern.id}, not the registered"
            f" {expected_pattern_hash}"
        )
    return pattern


def registration_args(pattern: LearnedPattern, metadata_cid: str) -> dict[str, object]:
    """Keyword arguments for NearClient.register_pattern for this pattern."""
    return {
        "pattern_hash": pattern.id,
        "metadata_cid": metadata_cid,
        "domain": pattern.domain,
        "price_per_use": pattern.price_per_use,
    }
