"""Read an HTTP body with a size cap, on either side of the wire.

The declared Content-Length is checked first (refuse without reading), then the stream is
counted as it arrives, because a peer may lie about or omit the length.
"""

from __future__ import annotations

from collections.abc import AsyncIterator


async def read_capped(
    chunks: AsyncIterator[bytes], declared_length: str | None, limit: int
) -> bytes | None:
    """The whole body, or None as soon as it is known to exceed `limit` bytes."""
    if declared_length is not None and declared_length.isdigit() and int(declared_length) > limit:
        return None
    parts, size = [], 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
    return b"".join(parts)
