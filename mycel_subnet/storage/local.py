"""The embedded content store: one file per object under `store_dir/objects`, named by its CID.

Writes are atomic (temporary file in the same folder, fsync, rename), so a crash never leaves a
half-written object under a valid name. Every read re-hashes the file and compares it with the
CID in its name: a corrupted or edited file raises IntegrityError instead of being served. Pins
are empty marker files under `store_dir/pins`, so pinning is atomic too and needs no index.
Only validated CIDs become file names, so a CID cannot walk out of the store (no '/' or '..').
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

from mycel_subnet.storage.base import DEFAULT_MAX_OBJECT_BYTES, ContentStore
from mycel_subnet.storage.cid import CidVersion, cid_of_same_kind, compute_cid, validate_cid
from mycel_subnet.storage.errors import ContentNotFound, ContentTooLarge, IntegrityError

_TMP_GRACE_S = 3600.0


class LocalContentStore(ContentStore):
    """Files under a folder, addressed by kubo-compatible CIDs."""

    def __init__(self, root: str | os.PathLike[str], *, max_object_bytes: int | None = None):
        self.root = Path(root).expanduser()
        self.max_object_bytes = max_object_bytes or DEFAULT_MAX_OBJECT_BYTES
        self._objects = self.root / "objects"
        self._pins = self.root / "pins"
        self._objects.mkdir(parents=True, exist_ok=True)
        self._pins.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalContentStore({str(self.root)!r})"

    def _object(self, cid: str) -> Path:
        return self._objects / validate_cid(cid)

    def put(self, data: bytes, *, pin: bool = True, cid_version: CidVersion = 1) -> str:
        if len(data) > self.max_object_bytes:
            raise ContentTooLarge(
                f"content of {len(data)} bytes exceeds this store's limit of"
                f" {self.max_object_bytes} bytes"
            )
        cid = compute_cid(data, cid_version)
        target = self._objects / cid
        if not self._intact(target, cid):
            self._atomic_write(target, data)
        if pin:
            self.pin(cid)
        return cid

    def _intact(self, path: Path, cid: str) -> bool:
        """Whether an object file exists and still hashes to its CID (a put repairs it if not)."""
        try:
            return cid_of_same_kind(path.read_bytes(), cid) == cid
        except FileNotFoundError:
            return False

    def _atomic_write(self, target: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def get(self, cid: str, *, max_size: int | None = None) -> bytes:
        path = self._object(cid)
        limit = self._limit(max_size)
        try:
            with path.open("rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if size > limit:
                    raise ContentTooLarge(
                        f"content {cid} is {size} bytes, over the limit of {limit} bytes"
                    )
                data = fh.read(limit + 1)
        except FileNotFoundError:
            raise ContentNotFound(f"no content for CID {cid} in {self.root}") from None
        if len(data) > limit:  # grew between stat and read
            raise ContentTooLarge(f"content {cid} is over the limit of {limit} bytes")
        actual = cid_of_same_kind(data, cid)
        if actual != cid:
            raise IntegrityError(
                f"stored content for {cid} is corrupted: its bytes hash to {actual}"
                f" ({path} was changed on disk)"
            )
        return data

    def has(self, cid: str) -> bool:
        return self._object(cid).is_file()

    def pin(self, cid: str) -> None:
        if not self.has(cid):
            raise ContentNotFound(f"cannot pin {cid}: no content for it in {self.root}")
        (self._pins / cid).touch()

    def unpin(self, cid: str) -> None:
        marker = self._pins / validate_cid(cid)
        try:
            marker.unlink()
        except FileNotFoundError:
            raise ContentNotFound(f"cannot unpin {cid}: it is not pinned") from None

    def pins(self) -> list[str]:
        return sorted(p.name for p in self._pins.iterdir() if not p.name.startswith("."))

    def objects(self) -> list[str]:
        """Every stored CID, pinned or not, sorted."""
        return sorted(p.name for p in self._objects.iterdir() if not p.name.startswith("."))

    def gc(self) -> list[str]:
        """Delete unpinned objects (and abandoned temporary files); return the CIDs removed."""
        pinned = set(self.pins())
        removed = []
        stale_before = time.time() - _TMP_GRACE_S  # a younger temp file may be a write in flight
        for path in self._objects.iterdir():
            if path.name.startswith(".tmp-"):
                with contextlib.suppress(FileNotFoundError):
                    if path.stat().st_mtime < stale_before:
                        path.unlink()
            elif path.name not in pinned:
                path.unlink(missing_ok=True)
                removed.append(path.name)
        return sorted(removed)
