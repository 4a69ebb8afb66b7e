"""Why an adapter was refused, one class per reason, each with a message that names it."""

from __future__ import annotations


class AdapterError(ValueError):
    """Base class: the adapter cannot be packaged, fetched or loaded."""


class InvalidAdapterArchive(AdapterError):
    """The archive is not the two-file tar this project writes (or is too large)."""


class AdapterIntegrityError(AdapterError):
    """The weights do not hash to the adapter_hash the pattern declares."""


class BaseModelMismatch(AdapterError):
    """The adapter was trained for another base model than the one it is loaded onto."""
