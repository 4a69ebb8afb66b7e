"""IPFS-addressed storage: kubo-exact CIDs, a local content store, and a kubo RPC client."""

from mycel_subnet.storage.base import ContentStore
from mycel_subnet.storage.cid import compute_cid, parse_cid, validate_cid
from mycel_subnet.storage.errors import (
    CidError,
    ContentNotFound,
    ContentTooLarge,
    IntegrityError,
    StorageError,
    StoreUnavailable,
)
from mycel_subnet.storage.factory import open_store
from mycel_subnet.storage.kubo import KuboContentStore
from mycel_subnet.storage.local import LocalContentStore

__all__ = [
    "CidError",
    "ContentNotFound",
    "ContentStore",
    "ContentTooLarge",
    "IntegrityError",
    "KuboContentStore",
    "LocalContentStore",
    "StorageError",
    "StoreUnavailable",
    "compute_cid",
    "open_store",
    "parse_cid",
    "validate_cid",
]
