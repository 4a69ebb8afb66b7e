"""Progress lines for slow steps (model load, sandbox, upload): the CLI prints them on stderr,
the API and tests pass a no-op."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str], None]


def quiet(_line: str) -> None:
    """A Progress that says nothing."""
