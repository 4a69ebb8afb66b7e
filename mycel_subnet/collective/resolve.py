"""Find one pattern by id, locally or on the registry, and fetch it by CID with its hash checked.

An id is the pattern's content id (64 hex characters) or its NEAR registry id (a number).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from mycel_subnet.collective.errors import BadInput, Unavailable, UnknownPatternId
from mycel_subnet.collective.instance import Instance
from mycel_subnet.near.client import RegistryError
from mycel_subnet.near.models import PatternEntry
from mycel_subnet.storage import StorageError
from mycel_subnet.storage.metadata import get_pattern_metadata
from protocol import LearnedPattern

_HASH = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class Resolved:
    pattern: LearnedPattern | None  # None until fetched
    entry: PatternEntry | None
    local: bool


def check_id(pattern_id: str) -> str:
    text = str(pattern_id).strip().lower()
    if not (_HASH.match(text) or (text.isdigit() and len(text) < 19)):
        raise BadInput(
            f"not a pattern id (64 hex characters, or a NEAR registry number): {pattern_id!r:.80}"
        )
    return text


async def registry_entry(instance: Instance, pattern_id: str) -> PatternEntry | None:
    registry = instance.registry()
    try:
        if pattern_id.isdigit():
            return await registry.get_pattern(int(pattern_id))
        return await registry.get_pattern_by_hash(pattern_id)
    except RegistryError as exc:
        if exc.message.startswith("Invalid pattern"):
            raise UnknownPatternId(f"unknown pattern: {pattern_id} ({exc.message})") from None
        raise Unavailable(f"the registry did not answer: {exc.message}") from None


async def resolve(instance: Instance, pattern_id: str, *, registry: bool = True) -> Resolved:
    """The local copy if there is one, and the registry entry (when `registry`)."""
    pattern_id = check_id(pattern_id)
    store = instance.pattern_store()
    entry = await registry_entry(instance, pattern_id) if registry else None
    content_id = pattern_id if not pattern_id.isdigit() else (entry.pattern_hash if entry else None)
    local = await asyncio.to_thread(store.get, content_id) if content_id else None
    if local is None and entry is None:
        raise UnknownPatternId(
            f"unknown pattern: {pattern_id} (not in the local store or registry)"
        )
    return Resolved(local, entry, local is not None)


async def fetch_verified(instance: Instance, entry: PatternEntry) -> LearnedPattern:
    """The registered pattern from the content store: bytes checked against the CID, the
    parsed pattern's id against the registered hash."""
    try:
        return await asyncio.to_thread(
            get_pattern_metadata,
            entry.metadata_cid,
            instance.content_store(),
            expected_pattern_hash=entry.pattern_hash,
        )
    except StorageError as exc:
        raise Unavailable(f"pattern {entry.id} cannot be fetched by CID: {exc}") from None
