"""Pick the content store a process uses from its settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mycel_subnet.storage.base import ContentStore
from mycel_subnet.storage.kubo import KuboContentStore
from mycel_subnet.storage.local import LocalContentStore

if TYPE_CHECKING:
    from mycel_subnet.config import IpfsSettings


def open_store(settings: IpfsSettings, *, max_object_bytes: int | None = None) -> ContentStore:
    """kubo's RPC API when `settings.api` is set, else the embedded store under `store_dir`."""
    if settings.api:
        return KuboContentStore(settings.api, max_object_bytes=max_object_bytes)
    return LocalContentStore(settings.store_dir, max_object_bytes=max_object_bytes)
