"""LoRA adapters shared by CID: package, fetch, verify, load, and find duplicates."""

from mycel_subnet.adapters.dedup import AdapterSubmission, DedupResult, find_duplicates
from mycel_subnet.adapters.errors import (
    AdapterError,
    AdapterIntegrityError,
    BaseModelMismatch,
    InvalidAdapterArchive,
)
from mycel_subnet.adapters.package import (
    adapter_hash,
    attach_adapter,
    fetch_adapter,
    load_adapter,
    package_adapter,
)

__all__ = [
    "AdapterError",
    "AdapterIntegrityError",
    "AdapterSubmission",
    "BaseModelMismatch",
    "DedupResult",
    "InvalidAdapterArchive",
    "adapter_hash",
    "attach_adapter",
    "fetch_adapter",
    "find_duplicates",
    "load_adapter",
    "package_adapter",
]
