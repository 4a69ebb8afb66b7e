"""The content store a process publishes to and fetches from, from its `--ipfs.*` settings.

`--ipfs.api URL` selects kubo's RPC API (the daemon's /api/v0); otherwise the embedded local
store under `--ipfs.store_dir` (`~` expanded). The miner and validator build theirs here too.
"""

from __future__ import annotations

from mycel_subnet.config import IpfsSettings
from mycel_subnet.storage import StorageError, open_store
from mycel_subnet.storage.base import ContentStore
from mycel_subnet.storage.kubo import redact


def open_content_store(settings: IpfsSettings) -> ContentStore:
    """Open the store `settings` name; one-line errors, never a traceback."""
    from mycel_subnet.collective.errors import Unavailable

    try:
        return open_store(settings)
    except (StorageError, OSError, ValueError) as exc:
        where = "kubo RPC " + redact(settings.api) if settings.api else str(settings.store_dir)
        raise Unavailable(f"content store {where} cannot be opened: {exc}") from None
