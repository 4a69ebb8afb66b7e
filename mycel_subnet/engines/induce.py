"""Template induction: several user requests that are one request with different fills give a
template whose fixed text is what they share and whose `{variables}` sit where they differ.

This is the strongest form of the vision's "generalise specific details": instead of guessing
which words are specifics, the log shows it. Alignment is difflib's on word tokens (whitespace
and punctuation kept as tokens, so the fixed text is reproduced exactly); a lone shared word
between two differing spans is treated as part of one fill (a chance match like "the").
"""

from __future__ import annotations

import difflib
import re

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
_WORD = re.compile(r"\w")
_STOP = frozenset(
    "a an and as at by for from in into of on or the to with is are be this that it".split()  # noqa: SIM905
)
MIN_SHARED_WORDS = 3


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _shared_mask(base: list[str], others: list[list[str]]) -> list[bool]:
    shared = [True] * len(base)
    for other in others:
        matcher = difflib.SequenceMatcher(None, base, other, autojunk=False)
        in_other = [False] * len(base)
        for block in matcher.get_matching_blocks():
            for i in range(block.a, block.a + block.size):
                in_other[i] = True
        shared = [s and o for s, o in zip(shared, in_other, strict=True)]
    return shared


def _runs(mask: list[bool]) -> list[tuple[bool, int, int]]:
    runs: list[tuple[bool, int, int]] = []
    start = 0
    for i in range(1, len(mask) + 1):
        if i == len(mask) or mask[i] != mask[start]:
            runs.append((mask[start], start, i))
            start = i
    return runs


def _absorb_chance_matches(tokens: list[str], mask: list[bool]) -> list[bool]:
    """A shared run of fewer than two words between two differing spans joins them."""
    mask = list(mask)
    runs = _runs(mask)
    for k, (fixed, start, end) in enumerate(runs):
        inner = 0 < k < len(runs) - 1
        words = sum(1 for t in tokens[start:end] if _WORD.match(t))
        if fixed and inner and words < 2:
            for i in range(start, end):
                mask[i] = False
    return mask


def _variable_name(before: str, taken: set[str]) -> str:
    words = [w.lower() for w in re.findall(r"[A-Za-z]{3,}", before)]
    base = next((w for w in reversed(words[-2:]) if w not in _STOP), "value")
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def induce_template(instances: list[str]) -> str | None:
    """A format string covering every instance, or None when they share too little or do not
    differ at all (then there is nothing to learn from the repetition)."""
    texts = [t.strip() for t in instances if t.strip()]
    if len(texts) < 2:
        return None
    base, *others = [_tokens(t) for t in texts]
    mask = _absorb_chance_matches(base, _shared_mask(base, others))
    shared_words = sum(1 for t, m in zip(base, mask, strict=True) if m and _WORD.match(t))
    if shared_words < MIN_SHARED_WORDS or all(mask):
        return None
    pieces: list[str] = []
    taken: set[str] = set()
    literal = ""
    for fixed, start, end in _runs(mask):
        if fixed:
            literal = "".join(base[start:end])
            pieces.append(_escape(literal))
        else:
            pieces.append("{" + _variable_name(literal, taken) + "}")
    return "".join(pieces)
