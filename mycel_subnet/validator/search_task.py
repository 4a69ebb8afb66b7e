"""The validator's side of pattern search: its own index of the NEAR registry, synced before
every step, and the snapshot a step's search challenges are built on.

The sync is bounded per step (`max_entries`, `budget_s`): a flood of registrations catches up
over several steps instead of stalling one. A step whose index holds fewer than `min_patterns`
searchable patterns gets no search task, and the step log says so; the other tasks are then
scored exactly as if search did not exist (the round has no search task and the floor has no
search entry).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mycel_subnet.patterns.registry_index import RegistryIndex
from mycel_subnet.patterns.registry_sync import (
    DeferredSync,
    RegistrySync,
    SyncReport,
    open_registry_sync,
)
from mycel_subnet.validator.challenges.search import MIN_PATTERNS, K, SearchSnapshot
from protocol import SearchPatternsRequest, SearchPatternsResult

log = logging.getLogger(__name__)
INDEX_FILE = "registry_index.sqlite"


@dataclass(frozen=True)
class Prepared:
    """A step's search state: the snapshot (None: no search task) and one line for the log."""

    snapshot: SearchSnapshot | None
    note: str
    sync: SyncReport | None = None


class SearchTask:
    """Owns the validator's registry index (through its sync) and builds each step's snapshot.

    `sync` is a RegistrySync, or a DeferredSync whose index opens once the registry answers."""

    def __init__(
        self,
        sync: RegistrySync | DeferredSync,
        *,
        min_patterns: int = MIN_PATTERNS,
        max_entries: int = 2_000,
        budget_s: float = 30.0,
    ) -> None:
        if min_patterns < 2 * K:
            raise ValueError(f"min_patterns must be at least {2 * K}, got {min_patterns}")
        self.sync = sync
        self.min_patterns = min_patterns
        self.max_entries = max_entries
        self.budget_s = budget_s

    @property
    def index(self) -> RegistryIndex | None:
        return self.sync.index

    def answer(self, request: SearchPatternsRequest) -> SearchPatternsResult:
        """The validator's own answer (the reference for search): its exact search."""
        if self.index is None:
            raise RuntimeError("the validator's registry index is not open")
        return self.index.answer(request)

    async def prepare(self) -> Prepared:
        """Sync (bounded), then the snapshot if the index is large enough. Never raises."""
        try:
            report = await self.sync.sync_once(
                max_entries=self.max_entries, deadline_s=self.budget_s
            )
        except Exception as error:  # a sync bug costs the search task, not the step
            log.exception("registry sync failed")
            return Prepared(None, f"search: none this step: the registry sync failed: {error}")
        if report.changed:
            log.info("%s", report.line())
        index = self.index
        size = 0 if index is None else index.size
        if size < self.min_patterns:
            note = (
                f"search: none this step: the registry index holds {size} patterns, fewer "
                f"than {self.min_patterns} (validator.search_min_patterns)"
            )
            if report.error:
                note += f"; sync stopped: {report.error}"
            return Prepared(None, note, report)
        snapshot = SearchSnapshot.of(index)
        note = f"search: {len(snapshot.patterns)} patterns below registry id {snapshot.upto}"
        if report.error:
            note += f"; sync stopped: {report.error}"
        return Prepared(snapshot, note, report)

    async def close(self) -> None:
        await self.sync.close()


def build_search_task(settings: Any, state_dir: Path) -> SearchTask | None:
    """The search task from the validator's settings (`validator.search_task`,
    `validator.search_min_patterns`, `near.*`, `ipfs.*`), or None when it is off or cannot be
    set up (one warning; the validator then runs without search)."""
    vs = settings.validator
    if not vs.search_task:
        return None
    try:
        sync = open_registry_sync(Path(state_dir) / INDEX_FILE, settings.near, settings.ipfs)
    except Exception as error:  # one line: the validator goes on without search
        log.warning("no search task: the registry index cannot be set up: %s", error)
        return None
    return SearchTask(sync, min_patterns=vs.search_min_patterns)
