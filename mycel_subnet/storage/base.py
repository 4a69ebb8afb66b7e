"""The ContentStore interface: put bytes, get them back by CID, pin what must be kept.

Two implementations: `LocalContentStore` (the embedded default, files named by CID) and
`KuboContentStore` (a kubo daemon's RPC API). Both return and accept kubo's CID strings and both
verify that content hashes to its CID, so callers never need to trust the backing store.
The interface is synchronous: callers in async code use `asyncio.to_thread`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from mycel_subnet.storage.cid import CidVersion

DEFAULT_MAX_OBJECT_BYTES = 512 * 1024 * 1024
"""Ceiling on one object (a LoRA adapter of a 7B model at r=64 is about 160 MiB in fp16)."""


class ContentStore(ABC):
    """Content-addressed bytes. Every `get` result has been checked against its CID."""

    max_object_bytes: int

    @abstractmethod
    def put(self, data: bytes, *, pin: bool = True, cid_version: CidVersion = 1) -> str:
        """Store `data` (pinned unless told otherwise) and return its CID."""

    @abstractmethod
    def get(self, cid: str, *, max_size: int | None = None) -> bytes:
        """The bytes of `cid`, at most `max_size` (default: the store's limit) long."""

    @abstractmethod
    def has(self, cid: str) -> bool:
        """Whether the content is available without fetching it from elsewhere."""

    @abstractmethod
    def pin(self, cid: str) -> None:
        """Keep `cid` through garbage collection."""

    @abstractmethod
    def unpin(self, cid: str) -> None:
        """Allow `cid` to be garbage-collected."""

    @abstractmethod
    def pins(self) -> list[str]:
        """The pinned CIDs, sorted."""

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release connections; the default has none."""

    def __enter__(self) -> ContentStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _limit(self, max_size: int | None) -> int:
        """The effective size cap of one read: the tighter of the caller's and the store's."""
        if max_size is None:
            return self.max_object_bytes
        if max_size < 0:
            raise ValueError(f"max_size must be >= 0, not {max_size}")
        return min(max_size, self.max_object_bytes)
