"""Where the log modules register their builders (kept apart so they import nothing heavy)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.privacy.corpus.values import Vault

Turns = list[tuple[str, str]]


@dataclass(frozen=True)
class LogSpec:
    id: str
    domain: str
    build: Callable[[Vault], Turns]
    should_refuse: bool = False
    insight: str = ""
    examples: tuple[tuple[list, object], ...] = ()
    entrypoint: str | None = None


REGISTRY: list[LogSpec] = []


def corpus_log(
    log_id: str,
    domain: str,
    insight: str,
    *,
    refuse: bool = False,
    examples=(),
    entrypoint: str | None = None,
):
    """Register a log builder: `build(vault) -> [(role, content), ...]`. `examples` are public
    (args, expected) cases the log's function `entrypoint` solves: a shared code template should
    still pass them."""
    if bool(examples) != bool(entrypoint):
        raise ValueError(f"{log_id}: examples and entrypoint go together")

    def register(build: Callable[[Vault], Turns]) -> Callable[[Vault], Turns]:
        if any(spec.id == log_id for spec in REGISTRY):
            raise ValueError(f"duplicate corpus log id {log_id!r}")
        spec = LogSpec(log_id, domain, build, refuse, insight, tuple(examples), entrypoint)
        REGISTRY.append(spec)
        return build

    return register
