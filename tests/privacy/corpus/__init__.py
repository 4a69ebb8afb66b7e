"""The privacy corpus: realistic interaction logs with planted private items, and their judge.

    from tests.privacy.corpus import load_corpus, judge
    for log in load_corpus():
        result = engine.generate_pattern(log.request)
        leaks = judge(log, result)          # a model, a dataclass, a dict or JSON text

Each log is a chat (user/assistant/tool turns, as protocol.InteractionLog), written by hand with
varied wording, whose private values come from a seeded `Vault` (valid check digits where the
format has them) and are recorded as (kind, exact value) items. Every log carries a reusable
insight (a coding fix, a data task, a writing task, a workflow) except the few marked
`should_refuse`, where nothing but the user's own data is left.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import Any

from protocol import GeneratePatternRequest, InteractionLog, Turn
from tests.privacy.corpus.judge import Leak, find_leaks
from tests.privacy.corpus.registry import REGISTRY

__all__ = ["CorpusLog", "Leak", "judge", "load_corpus", "summary"]


@dataclass(frozen=True)
class CorpusLog:
    id: str
    domain: str
    turns: tuple[tuple[str, str], ...]
    items: tuple[tuple[str, str], ...]
    should_refuse: bool = False
    insight: str = ""  # what a good pattern would keep, in a few words (for humans)
    examples: tuple[tuple[list, object], ...] = ()  # public (args, expected) for its code
    entrypoint: str | None = None  # the function of the log's code the examples call

    @property
    def messages(self) -> list[dict[str, str]]:
        return [{"role": role, "content": content} for role, content in self.turns]

    @property
    def request(self) -> GeneratePatternRequest:
        log = InteractionLog(turns=[Turn(role=r, content=c) for r, c in self.turns])
        return GeneratePatternRequest(interaction_log=log, domain=self.domain)

    @property
    def text(self) -> str:
        """The flat dialogue, one 'role: content' block per turn (what extract_shareable reads)."""
        return "\n\n".join(f"{role}: {content}" for role, content in self.turns)

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(kind for kind, _ in self.items)


@cache
def load_corpus() -> tuple[CorpusLog, ...]:
    """Every log, built once (deterministic: the same values on every run)."""
    from tests.privacy.corpus import (  # noqa: F401  (importing registers the logs)
        logs_code,
        logs_data,
        logs_ops,
        logs_writing,
    )
    from tests.privacy.corpus.values import Vault

    out = []
    for spec in REGISTRY:
        vault = Vault(spec.id)
        turns = spec.build(vault)
        text = "\n".join(content for _, content in turns)
        missing = [value for _, value in vault.items if value not in text]
        if missing:
            raise AssertionError(f"{spec.id}: planted values not in the log: {missing}")
        out.append(
            CorpusLog(
                id=spec.id,
                domain=spec.domain,
                turns=tuple(turns),
                items=tuple(vault.items),
                should_refuse=spec.should_refuse,
                insight=spec.insight,
                examples=spec.examples,
                entrypoint=spec.entrypoint,
            )
        )
    return tuple(out)


def judge(log: CorpusLog, exposed: Any) -> list[Leak]:
    """The planted items of `log` found in `exposed` (see judge.py for the views and rules)."""
    if exposed is None:
        return []
    return find_leaks(log.id, log.items, exposed)


def summary() -> dict[str, Any]:
    logs = load_corpus()
    kinds = Counter(kind for log in logs for kind, _ in log.items)
    return {
        "logs": len(logs),
        "items": sum(kinds.values()),
        "kinds": len(kinds),
        "by_kind": dict(sorted(kinds.items())),
        "should_refuse": [log.id for log in logs if log.should_refuse],
    }
