"""Keep a RegistryIndex in step with the NEAR pattern registry, incrementally and resumably.

A pass: read `get_config().next_id` (ids are sequential from 1, so every id below it is
registered), notice a registry that was reset under the index (next_id below the cursor, or the
last settled id now holding another hash: the index starts over and says so), retry a few
pending entries, then settle the ids from the cursor on in batches: each entry read from the
registry, its metadata fetched by CID from the content store (which checks the bytes against the
CID), parsed as a LearnedPattern whose content id must equal the registered pattern_hash and whose
domain must equal the registered domain, and embedded. A batch and the cursor move are one
transaction, so a restart resumes where the last batch ended.

Trouble with one entry settles that entry (refused, with its reason, or pending); trouble with
the registry or the store (unreachable) stops the pass before the entry, which a later pass
retries. Nothing here raises for bad data: the report says what happened, in one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from mycel_subnet.near.client import RegistryClient, RegistryError
from mycel_subnet.near.models import PatternEntry
from mycel_subnet.patterns.registry_index import RegistryIndex, Settled
from mycel_subnet.patterns.store import embedding_text
from mycel_subnet.storage.base import ContentStore
from mycel_subnet.storage.errors import (
    CidError,
    ContentNotFound,
    ContentTooLarge,
    StorageError,
    StoreUnavailable,
)
from mycel_subnet.storage.metadata import InvalidMetadata, get_pattern_metadata
from protocol import LearnedPattern, SearchPatternsRequest, SearchPatternsResult

if TYPE_CHECKING:
    from mycel_subnet.config import IpfsSettings, NearSettings

log = logging.getLogger(__name__)

BATCH = 64
CONCURRENCY = 8
MAX_ATTEMPTS = 20  # pending entries are retried this many times, then left alone


def _one_line(exc: BaseException | str) -> str:
    text = exc if isinstance(exc, str) else (getattr(exc, "message", None) or str(exc))
    return " ".join(str(text).split())[:300] or type(exc).__name__


class _Stop(Exception):
    """The registry or the store is unavailable: end the pass before this entry."""


@dataclass
class SyncReport:
    """What one pass did. `error` says why it stopped early; `behind` is how many registered
    ids are still unsettled after it."""

    next_id: int | None = None
    cursor: int = 1
    indexed: int = 0
    refused: int = 0
    pending: int = 0
    recovered: int = 0  # pending entries indexed on retry
    error: str | None = None
    reset: str | None = None
    seconds: float = 0.0
    reasons: list[str] = field(default_factory=list)  # the first few refusals, one line each

    @property
    def behind(self) -> int:
        return 0 if self.next_id is None else max(0, self.next_id - self.cursor)

    @property
    def changed(self) -> bool:
        return bool(self.indexed or self.refused or self.pending or self.recovered or self.reset)

    def line(self) -> str:
        parts = [
            f"{self.indexed} indexed, {self.refused} refused, {self.pending} pending"
            + (f", {self.recovered} recovered" if self.recovered else ""),
            f"cursor {self.cursor} of next_id {self.next_id if self.next_id else '?'}",
            f"{self.seconds:.1f}s",
        ]
        if self.reset:
            parts.insert(0, self.reset)
        if self.error:
            parts.append(f"stopped: {self.error}")
        return "registry sync: " + "; ".join(parts)


class RegistrySync:
    """One index, one registry (views only), one content store."""

    def __init__(
        self,
        index: RegistryIndex,
        registry: RegistryClient,
        store: ContentStore,
        *,
        batch: int = BATCH,
        concurrency: int = CONCURRENCY,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        if batch < 1 or concurrency < 1 or max_attempts < 1:
            raise ValueError("batch, concurrency and max_attempts must be >= 1")
        self.index = index
        self.registry = registry
        self.store = store
        self.batch = batch
        self.concurrency = concurrency
        self.max_attempts = max_attempts

    async def close(self) -> None:
        await self.registry.close()
        self.store.close()

    async def sync_once(
        self,
        *,
        max_entries: int | None = None,
        deadline_s: float | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> SyncReport:
        """One pass: at most `max_entries` new ids, stopping between batches after
        `deadline_s` seconds or once `cancelled()` is true. Never raises for registry, store or
        content trouble. One pass at a time per index (the miner's sync thread, or the
        validator's step)."""
        started = time.monotonic()
        report = SyncReport(cursor=self.index.cursor)
        limit = asyncio.Semaphore(self.concurrency)  # per pass: it binds to the running loop
        deadline = started + (deadline_s or float("inf"))

        def over() -> bool:
            return time.monotonic() > deadline or (cancelled is not None and cancelled())

        try:
            await self._pass(report, limit, max_entries, over)
        except _Stop as stop:
            report.error = str(stop)
        report.cursor = self.index.cursor
        report.seconds = time.monotonic() - started
        return report

    async def _pass(
        self,
        report: SyncReport,
        limit: asyncio.Semaphore,
        max_entries: int | None,
        over: Callable[[], bool],
    ) -> None:
        try:
            config = await self.registry.get_config()
        except RegistryError as exc:
            raise _Stop(f"registry: {_one_line(exc)}") from None
        report.next_id = config.next_id
        await self._check_reset(report, config.next_id)
        retry = self.index.pending(self.batch, max_attempts=self.max_attempts)
        if retry:
            await self._settle(retry, report, limit, retry=True)
        start = self.index.cursor
        end = config.next_id if max_entries is None else min(config.next_id, start + max_entries)
        for low in range(start, end, self.batch):
            if over():
                break
            await self._settle(list(range(low, min(end, low + self.batch))), report, limit)

    async def _check_reset(self, report: SyncReport, next_id: int) -> None:
        cursor = self.index.cursor
        why = None
        if next_id < cursor:
            why = f"the registry's next_id {next_id} is below this index's cursor {cursor}"
        else:
            last = self.index.last_settled()
            if last is not None:
                entry = await self._entry(last[0])
                if entry is None or entry.pattern_hash != last[1]:
                    why = f"registry id {last[0]} no longer holds pattern {last[1][:12]}"
        if why:
            gone = await asyncio.to_thread(self.index.reset)
            report.reset = f"registry reset ({why}): dropped {gone} entries, syncing again"
            log.warning("%s", report.reset)

    async def _settle(
        self, ids: list[int], report: SyncReport, limit: asyncio.Semaphore, *, retry: bool = False
    ) -> None:
        """Decide `ids` concurrently; write the longest run that completed before any stop and
        move the cursor past it (retries of pending ids leave the cursor alone)."""
        jobs = [asyncio.ensure_future(self._decide(rid, limit)) for rid in ids]
        await asyncio.gather(*jobs, return_exceptions=True)
        done: list[tuple[Settled, LearnedPattern | None]] = []
        stop: BaseException | None = None
        for job in jobs:
            if job.exception() is not None:
                stop = job.exception()
                break
            done.append(job.result())
        settled = await self._embed(done)
        if settled or not retry:
            cursor = None if retry else ids[0] + len(done)
            await asyncio.to_thread(self.index.settle, settled, cursor=cursor)
        for s in settled:
            if retry and s.status == "indexed":
                report.recovered += 1
            elif not retry or s.status == "refused":
                setattr(report, s.status, getattr(report, s.status) + 1)
            if s.status == "refused" and len(report.reasons) < 5:
                report.reasons.append(f"id {s.registry_id}: {s.reason}")
        if isinstance(stop, _Stop):
            raise stop
        if stop is not None:
            raise _Stop(f"unexpected {type(stop).__name__}: {_one_line(stop)}")

    async def _embed(self, done: list[tuple[Settled, LearnedPattern | None]]) -> list[Settled]:
        texts = [embedding_text(p) for _, p in done if p is not None]
        if not texts:
            return [s for s, _ in done]
        vectors = iter(await asyncio.to_thread(self.index.embedder.embed, texts))
        return [s if p is None else replace(s, embedding=next(vectors)) for s, p in done]

    async def _entry(self, registry_id: int) -> PatternEntry | None:
        try:
            return await self.registry.get_pattern(registry_id)
        except RegistryError as exc:
            raise _Stop(f"registry: {_one_line(exc)}") from None
        except ValidationError:
            return None

    async def _decide(
        self, registry_id: int, limit: asyncio.Semaphore
    ) -> tuple[Settled, LearnedPattern | None]:
        async with limit:
            entry = await self._entry(registry_id)
            if entry is None or entry.id != registry_id:
                reason = f"the registry has no valid entry {registry_id} below its next_id"
                return Settled(registry_id, "", "", "", "", "refused", reason), None
            base = {
                "registry_id": registry_id,
                "pattern_hash": entry.pattern_hash,
                "metadata_cid": entry.metadata_cid,
                "domain": entry.domain,
                "creator": entry.creator,
            }
            try:
                pattern = await asyncio.to_thread(
                    get_pattern_metadata,
                    entry.metadata_cid,
                    self.store,
                    expected_pattern_hash=entry.pattern_hash,
                )
            except StoreUnavailable as exc:
                raise _Stop(f"content store: {_one_line(exc)}") from None
            except (InvalidMetadata, CidError, ContentTooLarge) as exc:
                return Settled(**base, status="refused", reason=_one_line(exc)), None
            except ContentNotFound as exc:
                return Settled(**base, status="pending", reason=_one_line(exc)), None
            except StorageError as exc:  # a corrupted copy: another fetch may succeed
                return Settled(**base, status="pending", reason=_one_line(exc)), None
            if pattern.domain != entry.domain:
                reason = (
                    f"registered in domain {entry.domain!r} but its metadata says "
                    f"{pattern.domain!r}"
                )
                return Settled(**base, status="refused", reason=reason), None
            body = pattern.model_dump_json()
            return Settled(**base, status="indexed", trigger=pattern.trigger, body=body), pattern


class IndexNotReady(RuntimeError):
    """No index to answer from yet (the registry was never reachable); the message says why."""


class DeferredSync:
    """A RegistrySync opened by the first pass that reaches the registry: until the registry
    answers, nothing is created on disk (no index file, no content-store folder), so a node
    with no registry around leaves no trace. Then it is the RegistrySync it opened."""

    def __init__(
        self,
        path: Path,
        registry: RegistryClient,
        open_store: Callable[[], ContentStore],
        embedder: Callable[[], Any],
        registry_name: str,
    ) -> None:
        self.path = Path(path)
        self.registry = registry
        self._open_store = open_store
        self._embedder = embedder
        self.registry_name = registry_name
        self._sync: RegistrySync | None = None

    @property
    def index(self) -> RegistryIndex | None:
        return None if self._sync is None else self._sync.index

    async def sync_once(self, **kwargs: Any) -> SyncReport:
        if self._sync is None:
            try:
                await self.registry.get_config()
            except RegistryError as exc:
                return SyncReport(error=f"registry: {_one_line(exc)}")
            try:
                store = self._open_store()
                index = RegistryIndex(self.path, self._embedder(), registry=self.registry_name)
            except Exception as exc:  # one line in the report; the next pass tries again
                return SyncReport(error=f"index {self.path}: {_one_line(exc)}")
            self._sync = RegistrySync(index, self.registry, store)
        return await self._sync.sync_once(**kwargs)

    async def close(self) -> None:
        if self._sync is not None:
            await self._sync.close()
            self._sync.index.close()
        else:
            await self.registry.close()


class BackgroundSync:
    """Runs sync passes on a thread of its own every `interval_s` (at once when woken), with
    one event loop for its whole life (py-near's session belongs to one loop). A pass that
    leaves ids unsettled is followed by another at once, `max_entries` at a time."""

    def __init__(self, sync: RegistrySync, interval_s: float, *, max_entries: int = 2000) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be > 0 (0 means: no background sync)")
        self.sync = sync
        self.interval_s = interval_s
        self.max_entries = max_entries
        self.last: SyncReport | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name="registry-sync", daemon=True)
        self._last_error: str | None = None

    @property
    def index(self) -> RegistryIndex | None:
        return self.sync.index

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """Sync now instead of at the end of the interval."""
        self._wake.set()

    def stop(self, timeout_s: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.ident is not None:
            self._thread.join(timeout=timeout_s)

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            while not self._stop.is_set():
                self._wake.clear()
                try:
                    report = loop.run_until_complete(
                        self.sync.sync_once(
                            max_entries=self.max_entries, cancelled=self._stop.is_set
                        )
                    )
                except Exception:  # a bug must not end the miner's index for good
                    log.exception("registry sync pass failed")
                    report = None
                if report is not None:
                    self._log(report)
                    self.last = report
                    if report.behind and not report.error:
                        continue
                self._wake.wait(self.interval_s)
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(self.sync.close())
            loop.close()

    def _log(self, report: SyncReport) -> None:
        if report.error and report.error != self._last_error:
            log.warning("%s", report.line())
        elif report.changed:
            log.info("%s", report.line())
        else:
            log.debug("%s", report.line())
        for reason in report.reasons:
            log.info("registry sync refused %s", reason)
        self._last_error = report.error

    def searcher(self) -> Callable[[SearchPatternsRequest], SearchPatternsResult]:
        """The miner's search_patterns handler. An index behind the requested snapshot answers
        from what it holds (partial credit beats an error) and wakes the sync."""

        def search(request: SearchPatternsRequest) -> SearchPatternsResult:
            index = self.index
            if index is None:
                self.wake()
                last = self.last.error if self.last is not None else "the first sync is running"
                raise IndexNotReady(f"the registry index is not ready: {last}")
            if request.registry_upto is None or request.registry_upto > index.cursor:
                self.wake()
            return index.answer(request)

        return search


def open_registry_sync(
    path: Path,
    near: NearSettings,
    ipfs: IpfsSettings,
    *,
    embedder: Any = None,
    ledger_path: Path | None = None,
) -> DeferredSync:
    """The index at `path` over the registry `near` names (views only, no key needed; the
    local ledger at `ledger_path`, default ~/.mycel/near/ledger.db), fetching metadata from the
    store `ipfs` names, embedding with the project's model: what both neurons run. Opened by
    the first pass that reaches the registry."""
    from mycel_subnet.intelligence.embeddings import default_embedder
    from mycel_subnet.near.client import DEFAULT_LEDGER_PATH, make_registry_reader
    from mycel_subnet.storage.factory import open_store

    reader = make_registry_reader(
        near.network,
        registry=near.registry_contract,
        reputation=near.reputation_contract,
        account_id=near.account_id,
        ledger_path=ledger_path or DEFAULT_LEDGER_PATH,
    )
    return DeferredSync(
        Path(path).expanduser(),
        reader,
        lambda: open_store(ipfs),
        lambda: embedder or default_embedder(),
        f"{near.network}:{near.registry_contract}",
    )
