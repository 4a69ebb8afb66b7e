"""Read an HTTP body with a size cap, on either side of the wire.

The declared Content-Length is checked first (refuse without reading), then the stream is
counted as it arrives, because a peer may lie about or omit the length. The validator also caps
the number of pieces: a chunked body of one-byte chunks costs a Python parser event per byte, so
a miner could burn the validator's event loop for the whole deadline without ever reaching the
byte cap.
"""

from __future__ import annotations

from collections.abc import AsyncIterator


class BodyRefused(ValueError):
    """The body was refused before it was complete; the message says why in one line."""


class BodyTooLarge(BodyRefused):
    """More bytes (declared or sent) than the cap."""


class BodyFragmented(BodyRefused):
    """More pieces (chunks, reads) than the cap: a CPU attack, not an honest body."""


def declared_over(declared_length: str | None, limit: int) -> bool:
    """Whether a Content-Length header already says the body is over ``limit`` bytes."""
    return (
        declared_length is not None and declared_length.isdigit() and int(declared_length) > limit
    )


async def read_capped(
    chunks: AsyncIterator[bytes], declared_length: str | None, limit: int
) -> bytes | None:
    """The whole body, or None as soon as it is known to exceed `limit` bytes."""
    try:
        return await read_body(chunks, declared_length, limit)
    except BodyTooLarge:
        return None


async def read_body(
    chunks: AsyncIterator[bytes],
    declared_length: str | None,
    limit: int,
    max_pieces: int | None = None,
    progress: list[int] | None = None,
) -> bytes:
    """The whole body; raises BodyTooLarge / BodyFragmented as soon as a cap is crossed.

    ``progress``, when given, is ``[bytes, pieces]`` updated as the body arrives, so a caller
    whose deadline cancels the read can still say how far it got.
    """
    if declared_over(declared_length, limit):
        shown = declared_length[:20] + ("..." if len(declared_length) > 20 else "")
        raise BodyTooLarge(f"declared Content-Length {shown} exceeds {limit} bytes")
    parts: list[bytes] = []
    size = pieces = 0
    async for chunk in chunks:
        size += len(chunk)
        pieces += 1
        if progress is not None:
            progress[:] = [size, pieces]
        if size > limit:
            raise BodyTooLarge(f"body exceeds {limit} bytes")
        if max_pieces is not None and pieces > max_pieces:
            raise BodyFragmented(f"body arrived in more than {max_pieces} pieces ({size} bytes)")
        parts.append(chunk)
    return b"".join(parts)
