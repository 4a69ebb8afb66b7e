"""The gateway's credentials: API keys the operator issues, and hotkeys the operator allows.

An API key is ``mgw_<id>_<secret>``: the id (12 hex) finds the row, the secret (32 random bytes)
proves possession. Only the secret's sha256 is stored. A slow password hash (argon2) protects
secrets people choose; this one is 256 random bits, so sha256 cannot be brute-forced and keeps
each check at microseconds. Rows are never deleted: a revoked key stays, marked, so the holder is
told it was revoked instead of "unknown".

SQLite in WAL mode: the CLI (`mycel gateway issue/revoke`) writes while the gateway reads, and
every check reads the row, so a revocation takes effect on the next request.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from mycel_subnet.sqlite_util import enable_wal, immediate_transaction

KEYS_FILE = "gateway_keys.sqlite"
KEY_PREFIX = "mgw_"
_KEY = re.compile(r"^mgw_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_NAME = re.compile(r"^[A-Za-z0-9 _.@:-]{1,64}$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS credentials (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('api_key', 'hotkey')),
    name TEXT NOT NULL,
    secret_sha256 TEXT,
    hotkey TEXT UNIQUE,
    created_at REAL NOT NULL,
    revoked_at REAL
);
"""


class KeyStoreError(ValueError):
    """A bad name, id or hotkey given to the store; the message says which, in one line."""


@dataclass(frozen=True)
class Credential:
    """One row, never with the secret: what `list` shows and what a check returns."""

    id: str
    kind: str
    name: str
    created_at: float
    revoked_at: float | None = None
    hotkey: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True)
class IssuedKey:
    """A new API key: `key` is shown to the operator once and stored nowhere."""

    credential: Credential
    key: str


class KeyCheck:
    """Why an API key was refused (`code`, `detail`), or the credential it names."""

    def __init__(self, credential: Credential | None, code: str = "", detail: str = "") -> None:
        self.credential = credential
        self.code = code
        self.detail = detail

    @property
    def ok(self) -> bool:
        return self.credential is not None and not self.code


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_name(name: str) -> str:
    name = str(name).strip()
    if not _NAME.match(name):
        raise KeyStoreError(
            f"name must be 1-64 letters, digits, spaces or _.@:- characters, got {name!r:.80}"
        )
    return name


def _check_hotkey(hotkey: str) -> str:
    from bittensor.sp_core import ss58_decode

    try:
        ss58_decode(hotkey)
    except Exception:
        raise KeyStoreError(f"{hotkey!r:.80} is not an SS58 hotkey address") from None
    return hotkey


class KeyStore:
    """The credentials file; thread-safe (one connection, one lock)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists()
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            self.path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        if fresh:
            os.chmod(self.path, 0o600)  # hashes only, but nobody else needs to read them
        enable_wal(self._conn, 30.0)
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> KeyStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @staticmethod
    def _row(row: tuple) -> Credential:
        cid, kind, name, created, revoked, hotkey = row
        return Credential(cid, kind, name, float(created), revoked, hotkey)

    def _one(self, where: str, args: tuple) -> tuple | None:
        with self._lock:
            return self._conn.execute(
                "SELECT id, kind, name, created_at, revoked_at, hotkey, secret_sha256 "
                f"FROM credentials WHERE {where}",
                args,
            ).fetchone()

    # -- operator actions -------------------------------------------------------------------

    def issue(self, name: str) -> IssuedKey:
        """A new API key named `name` (who it is for)."""
        name = _check_name(name)
        cid, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        now = time.time()
        with immediate_transaction(self._conn, self._lock) as conn:
            conn.execute(
                "INSERT INTO credentials (id, kind, name, secret_sha256, created_at) "
                "VALUES (?, 'api_key', ?, ?, ?)",
                (cid, name, _digest(secret), now),
            )
        return IssuedKey(Credential(cid, "api_key", name, now), f"{KEY_PREFIX}{cid}_{secret}")

    def allow_hotkey(self, hotkey: str, name: str) -> Credential:
        """Let signed requests from `hotkey` in, registered on the subnet or not."""
        hotkey, name = _check_hotkey(hotkey), _check_name(name)
        now = time.time()
        with immediate_transaction(self._conn, self._lock) as conn:
            found = conn.execute("SELECT id FROM credentials WHERE hotkey=?", (hotkey,)).fetchone()
            if found:
                conn.execute(
                    "UPDATE credentials SET name=?, revoked_at=NULL WHERE id=?", (name, found[0])
                )
                cid = found[0]
            else:
                cid = secrets.token_hex(6)
                conn.execute(
                    "INSERT INTO credentials (id, kind, name, hotkey, created_at) "
                    "VALUES (?, 'hotkey', ?, ?, ?)",
                    (cid, name, hotkey, now),
                )
        return self._row(self._one("id=?", (cid,))[:6])

    def revoke(self, ident: str) -> Credential:
        """Revoke by id (or by hotkey for an allowed hotkey); revoking twice keeps the first
        time. Raises KeyStoreError when nothing matches."""
        ident = str(ident).strip()
        if ident.startswith(KEY_PREFIX):
            match = _KEY.match(ident)
            ident = match.group(1) if match else ident
        with immediate_transaction(self._conn, self._lock) as conn:
            conn.execute(
                "UPDATE credentials SET revoked_at=COALESCE(revoked_at, ?) WHERE id=? OR hotkey=?",
                (time.time(), ident, ident),
            )
        row = self._one("id=? OR hotkey=?", (ident, ident))
        if row is None:
            raise KeyStoreError(f"no credential with id or hotkey {ident!r:.80}")
        return self._row(row[:6])

    def list(self) -> list[Credential]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, kind, name, created_at, revoked_at, hotkey FROM credentials "
                "ORDER BY created_at"
            ).fetchall()
        return [self._row(r) for r in rows]

    # -- checks (the gateway, per request) --------------------------------------------------

    def check_api_key(self, key: str) -> KeyCheck:
        """The credential a presented key names, or why it is refused (never which part of an
        unknown key was wrong: an id without its secret proves nothing)."""
        match = _KEY.match(key)
        if not match:
            return KeyCheck(
                None, "malformed_api_key", "an API key looks like mgw_<12 hex>_<43 characters>"
            )
        row = self._one("id=? AND kind='api_key'", (match.group(1),))
        if row is None or not hmac.compare_digest(row[6] or "", _digest(match.group(2))):
            return KeyCheck(None, "invalid_api_key", "no such API key; ask the operator for one")
        credential = self._row(row[:6])
        if credential.revoked:
            when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(credential.revoked_at))
            return KeyCheck(credential, "revoked_api_key", f"this API key was revoked on {when}")
        return KeyCheck(credential)

    def allowed_hotkey(self, hotkey: str) -> Credential | None:
        """The operator's entry for `hotkey`, revoked or not; None when it has none."""
        row = self._one("hotkey=?", (hotkey,))
        return None if row is None else self._row(row[:6])
