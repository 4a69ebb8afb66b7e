"""Fresh query texts from registered patterns' triggers: word-level paraphrases and compositions,
every choice drawn from the challenge's secret stream.

Not a language model: synonyms from a small table, dropped filler words, reordered halves,
framings a user would type, and two triggers joined into one request. What matters for the
search task is that the text is new (no miner can have answered it before) and close to real
patterns, so the validator's exact search over the snapshot has a meaningful top k.
"""

from __future__ import annotations

import random
import re

SYNONYMS: dict[str, tuple[str, ...]] = {
    "parse": ("read", "extract", "load"), "sort": ("order", "arrange"),
    "validate": ("check", "verify"), "summarise": ("summarize", "condense", "recap"),
    "convert": ("transform", "turn"), "deduplicate": ("remove duplicates from", "dedupe"),
    "merge": ("combine", "join"), "filter": ("select", "screen"), "rank": ("score", "order"),
    "compress": ("shrink", "pack"), "encrypt": ("secure", "encode"),
    "schedule": ("plan", "queue"), "translate": ("convert the language of",),
    "format": ("lay out", "pretty-print"), "plot": ("chart", "graph", "visualise"),
    "cache": ("memoise", "keep copies of"), "retry": ("re-run", "try again on"),
    "paginate": ("page through", "split into pages"), "index": ("catalogue", "build an index of"),
    "stream": ("process incrementally",), "anonymise": ("scrub", "strip identities from"),
    "aggregate": ("total", "roll up"), "tokenise": ("split into tokens",),
    "diff": ("compare", "find changes in"), "report": ("summary", "digest"),
    "weekly": ("every week",), "table": ("grid",), "quickly": ("fast",), "file": ("document",),
    "errors": ("failures",), "error": ("failure",), "messages": ("texts",),
    "list": ("sequence",), "numbers": ("values",), "data": ("records",),
}  # fmt: skip
FILLER = frozenset({"a", "an", "the", "of", "and"})
PREPOSITIONS = frozenset({
    "for", "into", "with", "in", "on", "by", "before", "when", "without", "using", "from",
    "under", "after", "to",
})  # fmt: skip
FRAMINGS = (
    "{}", "How do I {}?", "I need to {}", "Help me {}", "Looking for a way to {}",
    "pattern to {}", "Best approach to {}", "Is there a pattern that can {}?", "{} please",
    "Our team wants to {}", "quick way to {}",
)  # fmt: skip
JOINERS = ("{} and then {}", "{}, then {}", "{} plus {}", "first {}, afterwards {}")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*|\S")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.strip().rstrip(".?!"))


def _swap(words: list[str], rng: random.Random, strength: float) -> list[str]:
    out: list[str] = []
    for word in words:
        lower = word.lower()
        roll = rng.random()
        if lower in SYNONYMS and roll < strength:
            out.append(rng.choice(SYNONYMS[lower]))
        elif lower in FILLER and roll < strength / 2 and len(words) > 3:
            continue
        else:
            out.append(lower)
    return out


def rewrite(trigger: str, rng: random.Random, strength: float) -> str:
    """The trigger with about `strength` of its words swapped for synonyms or dropped (filler
    only), framed as a request; with probability `strength` its qualifying phrase (from the
    first preposition on) comes first: "for a weekly report, help me sort invoice totals"."""
    words = _words(trigger)
    cut = next((i for i, w in enumerate(words) if i >= 2 and w.lower() in PREPOSITIONS), len(words))
    action = " ".join(_swap(words[:cut], rng, strength)) or trigger.lower()
    context = " ".join(_swap(words[cut:], rng, strength))
    if context and rng.random() < strength:
        return f"{context}, {frame(action, rng)}"
    return frame(f"{action} {context}".strip(), rng)


def frame(text: str, rng: random.Random) -> str:
    return rng.choice(FRAMINGS).format(text)


def compose(first: str, second: str, rng: random.Random) -> str:
    """Two requests in one query."""
    return rng.choice(JOINERS).format(first, second)
