# ruff: noqa: E501 - regex rule tables read best one rule per line
"""Generalisation: specifics (companies, amounts, dates, numbers, quoted strings, paths, ids)
become named template variables, so a shared pattern says "invoices from {company} over
{amount}" and the originals stay with their owner."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_SUFFIX = r"(?:Corp|Corporation|Inc|Ltd|LLC|GmbH|AG|SA|Co|Company|Group|Labs|Bank|Partners)\.?"
_CAPS = r"[A-Z][\w&'.-]*"
# Capitalised words that follow from/for/at/with but are not companies.
_NOT_COMPANY = {
    "Python",
    "JavaScript",
    "TypeScript",
    "Rust",
    "Go",
    "Java",
    "SQL",
    "JSON",
    "CSV",
    "HTML",
    "API",
    "Linux",
    "Windows",
    "Docker",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "I",
    "Me",
    "Example",
    "Instance",
    "Now",
    "Today",
    "Git",
    "GitHub",
}
# (variable base name, pattern); earlier rules win on overlap.
RULES: list[tuple[str, re.Pattern[str]]] = [
    ("url", re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+")),
    ("quoted", re.compile(r"\"[^\"\n]{1,200}\"|'[^'\n]{1,200}'|“[^”\n]{1,200}”")),
    (
        "path",
        re.compile(r"(?<![\w<])(?:~|\.{1,2})?(?:/[\w.-]+){2,}/?|\b[A-Z]:\\(?:[\w .-]+\\)*[\w .-]+"),
    ),
    ("date", re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?\b")),
    ("date", re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")),
    (
        "date",
        re.compile(
            rf"\b{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}\b|\b\d{{1,2}} {_MONTH},? \d{{4}}\b|\b{_MONTH} \d{{4}}\b"
        ),
    ),
    ("amount", re.compile(r"[$€£¥]\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:[kKmMbB]n?|million|billion)\b)?")),
    (
        "amount",
        re.compile(
            r"\b\d[\d,]*(?:\.\d+)?\s?(?:USD|EUR|GBP|CHF|JPY|TAO|NEAR|dollars|euros|pounds)\b"
        ),
    ),
    ("id", re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)),
    (
        "id",
        re.compile(
            r"\b[A-Z]{2,}[A-Z0-9]*-\d[\w-]*\b|#\d+\b|\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b"
        ),
    ),
    ("company", re.compile(rf"\b(?:from|for|at|with|by|to) ((?:{_CAPS} ){{0,3}}{_SUFFIX})(?!\w)")),
    ("company", re.compile(rf"\b(?:from|for|at|with|to) ({_CAPS}(?: {_CAPS}){{0,2}})")),
    ("number", re.compile(r"(?<![\w.<{])\d+(?:[.,]\d+)*(?![\w>}])")),
]


@dataclass(frozen=True)
class Generalised:
    """A template with ``{name}`` variables; ``variables`` maps each name to its original value.

    The values are private: they are kept out of ``repr`` so logs never show them."""

    template: str
    variables: dict[str, str] = field(repr=False, default_factory=dict)

    def render(self) -> str:
        """Re-fill the template (round-trips to the input text)."""
        return self.template.format(**self.variables)


def _accept(kind: str, value: str) -> bool:
    if kind == "company":
        return value.split()[0] not in _NOT_COMPANY
    return True


def generalise(text: str) -> Generalised:
    """Replace specifics in ``text`` with named variables; braces in the text are escaped."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    taken: list[tuple[int, int, str]] = []
    for kind, pattern in RULES:
        group = 1 if pattern.groups else 0
        for match in pattern.finditer(text):
            start = match.start(group)
            value = match.group(group)
            value = value.rstrip(".,") if kind == "company" else value
            end = start + len(value)
            if not value or not _accept(kind, value):
                continue
            if all(end <= s or start >= e for s, e, _ in taken):
                taken.append((start, end, kind))
    for value in {text[s:e] for s, e, kind in taken if kind == "company"}:
        for match in re.finditer(rf"(?<!\w){re.escape(value)}(?!\w)", text):
            start, end = match.span()
            if all(end <= s or start >= e for s, e, _ in taken):
                taken.append((start, end, "company"))
    taken.sort()
    names: dict[tuple[str, str], str] = {}
    counts: dict[str, int] = {}
    variables: dict[str, str] = {}
    pieces, cursor = [], 0
    for start, end, kind in taken:
        value = text[start:end]
        name = names.get((kind, value))
        if name is None:
            counts[kind] = counts.get(kind, 0) + 1
            name = kind if counts[kind] == 1 else f"{kind}_{counts[kind]}"
            names[(kind, value)] = name
            variables[name] = value
        pieces.append(_escape(text[cursor:start]))
        pieces.append("{" + name + "}")
        cursor = end
    pieces.append(_escape(text[cursor:]))
    return Generalised(template="".join(pieces), variables=variables)


def _escape(chunk: str) -> str:
    return chunk.replace("{", "{{").replace("}", "}}")
