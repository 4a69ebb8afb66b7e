"""k-anonymity for pattern structure: a structure is shareable only once it has been seen in at
least k distinct interactions.

Why: the allowlist and the leak check remove what is recognisably private, but a structure that
only one interaction ever had (an unusual request, a bespoke config layout) can still single that
interaction out. Requiring k distinct interactions means whatever the structure reveals is
common to at least k of them. It is a threshold on counts, not differential privacy: it says
nothing about what the k interactions share, and k interactions may come from one person.

The structure key is a SHA-256 of the generalised structure: placeholders (`<PERSON>`,
`{person}`, `{person_2}`) normalised to one form, Unicode NFKC, case-folded, whitespace
collapsed. Interaction ids are stored only as HMAC-SHA256 under a random salt created with the
file and kept in it, so the file does not hold the ids and counting the same interaction twice
counts once. SQLite (WAL) so counts survive restarts and several processes can share the file.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import threading
import time
import unicodedata
from pathlib import Path

from mycel_subnet.sqlite_util import enable_wal, immediate_transaction

DEFAULT_K = 3
MAX_ID_CHARS = 512
_KEY_RE = re.compile(r"^[0-9a-f]{64}$")
_PLACEHOLDER = re.compile(r"<([A-Za-z][A-Za-z_]*?)(?:_\d+)?>|\{([A-Za-z][A-Za-z_]*?)(?:_?\d+)?\}")
_SPACE = re.compile(r"\s+")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS kanon_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS kanon_seen ("
    " structure TEXT NOT NULL, interaction TEXT NOT NULL, seen_at REAL NOT NULL,"
    " PRIMARY KEY (structure, interaction))",
)


def normalise_structure(text: str) -> str:
    """The form two structures share when they differ only in placeholder style, numbering,
    case or whitespace."""
    if not isinstance(text, str):
        raise TypeError(f"structure must be a str, got {type(text).__name__}")
    text = unicodedata.normalize("NFKC", text)
    text = _PLACEHOLDER.sub(lambda m: "<" + (m.group(1) or m.group(2)).upper() + ">", text)
    return _SPACE.sub(" ", text).strip().casefold()


def structure_key(text: str) -> str:
    """SHA-256 hex of the normalised structure; refuses a structure that is empty."""
    normal = normalise_structure(text)
    if not normal:
        raise ValueError("structure must not be empty")
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def _check_key(key: object) -> str:
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise ValueError(
            "structure_key must be 64 lower-case hex characters (use kanon.structure_key), "
            f"got {key!r:.80}"
        )
    return key


def _check_interaction(interaction_id: object) -> str:
    if not isinstance(interaction_id, str) or not interaction_id.strip():
        raise ValueError(f"interaction_id must be a non-empty string, got {interaction_id!r:.80}")
    if len(interaction_id) > MAX_ID_CHARS:
        raise ValueError(f"interaction_id is {len(interaction_id)} characters; at most 512")
    return interaction_id


class KAnonymityGate:
    """Counts distinct interactions per structure key; shareable once the count reaches k."""

    def __init__(self, path: str | Path, k: int = DEFAULT_K, *, timeout_s: float = 30.0) -> None:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a whole number >= 1, got {k!r}")
        self.k = k
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            str(self.path), timeout=timeout_s, isolation_level=None, check_same_thread=False
        )
        self._conn.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
        if enable_wal(self._conn, timeout_s) != "wal":
            raise RuntimeError(f"cannot use WAL journal on {self.path}")
        with immediate_transaction(self._conn, self._lock) as conn:
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute(
                "INSERT OR IGNORE INTO kanon_meta(key, value) VALUES ('salt', ?)",
                (secrets.token_hex(32),),
            )
            salt = conn.execute("SELECT value FROM kanon_meta WHERE key = 'salt'").fetchone()[0]
        self._salt = bytes.fromhex(salt)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> KAnonymityGate:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _hash_id(self, interaction_id: str) -> str:
        return hmac.new(self._salt, interaction_id.encode("utf-8"), hashlib.sha256).hexdigest()

    def observe(self, structure_key: str, interaction_id: str) -> int:
        """Record that ``interaction_id`` had this structure; the distinct count after it."""
        key = _check_key(structure_key)
        hashed = self._hash_id(_check_interaction(interaction_id))
        with immediate_transaction(self._conn, self._lock) as conn:
            conn.execute(
                "INSERT OR IGNORE INTO kanon_seen(structure, interaction, seen_at) VALUES (?,?,?)",
                (key, hashed, time.time()),
            )
            return self._count(conn, key)

    @staticmethod
    def _count(conn: sqlite3.Connection, key: str) -> int:
        row = conn.execute("SELECT COUNT(*) FROM kanon_seen WHERE structure = ?", (key,))
        return int(row.fetchone()[0])

    def count(self, structure_key: str) -> int:
        """Distinct interactions seen with this structure."""
        key = _check_key(structure_key)
        with self._lock:
            return self._count(self._conn, key)

    def shareable(self, structure_key: str) -> bool:
        """True once at least k distinct interactions had this structure."""
        return self.count(structure_key) >= self.k

    def __repr__(self) -> str:
        return f"KAnonymityGate({str(self.path)!r}, k={self.k})"
