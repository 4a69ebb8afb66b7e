"""One Mycel OS instance: its private home (pattern store, records), its NEAR account and the
content store it publishes to. Opened once per command, or once per API server process.

Private things (extracted patterns before they are published, usage counters, k-anonymity
counts) live only under `home`. What is shared goes to the content store (`--ipfs.*`: the local
store by default, kubo's RPC API with `--ipfs.api`) and to the registry (`--near.*`).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from mycel_subnet.collective.errors import BadInput, Unavailable
from mycel_subnet.collective.storage import open_content_store
from mycel_subnet.config import IpfsSettings, NearSettings
from mycel_subnet.near.client import (
    DEFAULT_LEDGER_PATH,
    LocalRegistryClient,
    RegistryClient,
    make_registry_client,
)
from mycel_subnet.near.ledger import ONE_NEAR, LedgerError, LocalLedger, is_account_id
from mycel_subnet.sqlite_util import enable_wal
from mycel_subnet.storage.base import ContentStore

DEFAULT_HOME = Path("~/.mycel/instance")
DEFAULT_ACCOUNT = "me.mycel.test"
# The local ledger is a sandbox chain: a new account there starts with this much, so a fresh
# instance can pay for patterns. Real networks use the account's real balance.
LOCAL_START_BALANCE = 100 * ONE_NEAR

_SCHEMA = """
CREATE TABLE IF NOT EXISTS published (
    pattern_id TEXT PRIMARY KEY, near_id INTEGER NOT NULL, metadata_cid TEXT NOT NULL,
    price TEXT NOT NULL, network TEXT NOT NULL, published_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS extracted (pattern_id TEXT PRIMARY KEY, extracted_at REAL NOT NULL);
"""


@dataclass(frozen=True)
class InstanceConfig:
    """Where the instance keeps its things and which networks it talks to."""

    home: Path = DEFAULT_HOME
    near: NearSettings = field(default_factory=NearSettings)
    ipfs: IpfsSettings = field(default_factory=IpfsSettings)
    ledger_path: Path = DEFAULT_LEDGER_PATH

    @property
    def account(self) -> str:
        return self.near.account_id or DEFAULT_ACCOUNT

    def resolved_home(self) -> Path:
        return Path(self.home).expanduser()


class Instance:
    """The open resources of one instance; thread-safe enough for the API (SQLite in WAL)."""

    def __init__(self, config: InstanceConfig) -> None:
        self.config = config
        if not is_account_id(config.account):
            raise BadInput(f"--near.account_id is not a NEAR account id: {config.account!r}")
        self.home = config.resolved_home()
        try:
            self.home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BadInput(f"cannot create the instance home {self.home}: {exc.strerror}") from None
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            str(self.home / "collective.db"), isolation_level=None, check_same_thread=False
        )
        enable_wal(self._db, 30.0)
        self._db.executescript(_SCHEMA)
        self._store = None
        self._content: ContentStore | None = None
        self._registry: RegistryClient | None = None

    @property
    def account(self) -> str:
        return self.config.account

    @property
    def network(self) -> str:
        return self.config.near.network

    # ----- lazily opened parts -----------------------------------------------------------------

    def pattern_store(self):
        """The private pattern store (home/patterns.db), with the shared MiniLM embedder."""
        with self._lock:
            if self._store is None:
                from mycel_subnet.intelligence.embeddings import default_embedder
                from mycel_subnet.patterns import PatternStore

                self._store = PatternStore(self.home / "patterns.db", default_embedder())
            return self._store

    def content_store(self) -> ContentStore:
        with self._lock:
            if self._content is None:
                self._content = open_content_store(self.config.ipfs)
            return self._content

    def registry(self) -> RegistryClient:
        with self._lock:
            if self._registry is None:
                self._registry = self._open_registry()
            return self._registry

    def _open_registry(self) -> RegistryClient:
        near = self.config.near
        if near.network == "local":
            try:
                ledger = LocalLedger(Path(self.config.ledger_path).expanduser())
                ledger.create_account(self.account, LOCAL_START_BALANCE)
                ledger.ensure_mycel_contracts(
                    self.account,
                    registry=near.registry_contract,
                    reputation=near.reputation_contract,
                )
            except (LedgerError, OSError, sqlite3.Error) as exc:
                raise Unavailable(f"the local NEAR ledger cannot be opened: {exc}") from None
            return LocalRegistryClient(
                ledger,
                self.account,
                registry=near.registry_contract,
                reputation=near.reputation_contract,
            )
        key = near.private_key.get_secret_value() if near.private_key else None
        try:
            return make_registry_client(
                near.network,
                self.account,
                registry=near.registry_contract,
                reputation=near.reputation_contract,
                private_key=key,
            )
        except ValueError as exc:
            raise BadInput(str(exc)) from None

    # ----- the instance's own records ----------------------------------------------------------

    def record_extracted(self, pattern_id: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO extracted(pattern_id, extracted_at) VALUES (?, ?)",
                (pattern_id, time.time()),
            )

    def record_published(self, pattern_id: str, near_id: int, cid: str, price: int) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO published VALUES (?, ?, ?, ?, ?, ?)",
                (pattern_id, near_id, cid, str(price), self.network, time.time()),
            )

    def published(self) -> list[tuple[str, int, str, int]]:
        """(pattern id, NEAR id, metadata CID, price) of what this instance published here."""
        with self._lock:
            rows = self._db.execute(
                "SELECT pattern_id, near_id, metadata_cid, price FROM published"
                " WHERE network = ? ORDER BY published_at",
                (self.network,),
            ).fetchall()
        return [(p, int(n), c, int(price)) for p, n, c, price in rows]

    async def aclose(self) -> None:
        if self._registry is not None:
            await self._registry.close()
            ledger = getattr(self._registry, "ledger", None)
            if ledger is not None:
                ledger.close()
        self.close_sync()

    def close_sync(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
            if self._content is not None:
                self._content.close()
            self._db.close()
