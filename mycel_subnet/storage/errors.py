"""Errors of the content store, one class per thing that can go wrong.

Every error carries a message that names the CID, the limit or the endpoint involved, so that a
miner or validator operator can act on it without a traceback.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base class for every content-store failure."""


class CidError(StorageError, ValueError):
    """A CID string is malformed or uses a codec, hash or base this project does not accept."""


class ContentNotFound(StorageError, KeyError):
    """The store has no content for the CID."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "content not found"


class ContentTooLarge(StorageError):
    """Content is larger than the limit the caller or the store allows."""


class IntegrityError(StorageError):
    """Bytes do not hash to the CID they were stored or served under."""


class StoreUnavailable(StorageError):
    """The backing service (a kubo daemon) cannot be reached."""
