"""The vocabulary allowlist applied to prose: each token is kept only if it is common public
vocabulary, technical vocabulary or structure; every other token becomes a typed placeholder.
NER entities (people, places, organisations) and proper nouns are replaced even when their words
are common ("Rose", "Paris", "Mohammed"), because the model saw them used as names.

What counts as structure: punctuation, placeholders already in the text, single letters and
two-letter tokens, and numbers of up to 7 digits (counts, years, ports, "order 12345"). Longer
digit runs that no detector claimed become <NUMBER> (account, customer or ticket numbers).
Tokens mixing letters and digits that are not technical ("a1b2c3d", "prj42x") become <ID>;
unit-like ones ("10ms", "3rd", "v2", "sha256", "x86") stay.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from mycel_subnet.privacy import ner
from mycel_subnet.privacy.vocabulary import is_technical, is_vocabulary, zipf

PLACEHOLDER = re.compile(r"<[A-Z][A-Z_]*>")
_TOKEN = re.compile(r"<[A-Z][A-Z_]*>|[^\W_]+(?:['’][^\W\d_]+)*")
_CAMEL = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+|[^\W\d_]+")
_UNIT = re.compile(
    r"(?i)\d+(?:st|nd|rd|th|s|ms|us|ns|kb|mb|gb|tb|kib|mib|gib|k|m|b|px|em|rem|pt|x|d|h|min|"
    r"fps|hz|khz|mhz|ghz|bit|bits|bps|kbps|mbps|gbps|xx|am|pm|g|kg|mg|ml|l|cm|mm|km|v|w|kw|p|i)"
    r"|[a-z]{1,3}\d{1,2}|v\d+[a-z]?|\d+[a-z]?"
)
_DAYS_MONTHS = frozenset(
    """
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december
    """.split()  # noqa: SIM905
)
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n]\s*|^\s*[-*>#\d.)]+\s*|[\"'(“‘]\s*)$")
MAX_PLAIN_DIGITS = 7
_PARTICLES = "van|der|den|de|la|le|von|da|dos|das|di|du|del|della|ter|ten|bin|ibn|al|el"
_COLLAPSE = re.compile(rf"<([A-Z][A-Z_]*)>(?:(?:[ \t]+(?:{_PARTICLES}))*[ \t]+<\1>)+")


# a person's name split across kinds ("<PERSON> <TERM>" for "Mehmet Yılmaz") is one person
_NAME_RUN = re.compile(
    r"<PERSON>(?:[ \t]+<(?:PERSON|NAME|TERM)>)+|(?:<(?:NAME|TERM)>[ \t]+)+<PERSON>"
)


@dataclass(frozen=True)
class Replacement:
    start: int
    end: int
    kind: str


def _code_like(word: str) -> bool:
    """CamelCase, snake_case or ALLCAPS-with-digits tokens that NER often mislabels."""
    return bool(re.search(r"[a-z][A-Z]|_|\d", word)) or (word.isupper() and len(word) <= 5)


def useful_entity(text: str) -> bool:
    """False for NER hits that are only technical words ("JSON", "KeyError", "S3")."""
    words = re.findall(r"[^\W_]+", text)
    if not words:
        return False
    return not all(is_technical(w) or _code_like(w) for w in words)


def token_kind(token: str) -> str | None:
    """The placeholder kind for a token the allowlist refuses, or None when it may stay."""
    if PLACEHOLDER.fullmatch(token) or len(token) <= 2:
        return None
    if token.isdigit():
        return "NUMBER" if len(token) > MAX_PLAIN_DIGITS else None
    if any(ch.isdigit() for ch in token):
        if is_technical(token) or _UNIT.fullmatch(token):
            return None
        return "ID"
    if is_vocabulary(token):
        return None
    parts = [p for p in _CAMEL.findall(token) if len(p) > 1]
    if len(parts) > 1 and all(is_vocabulary(p) for p in parts):
        return None
    return "TERM"


def _capitalised_word(text: str, ent: ner.Entity) -> bool:
    """An ORG or place that is one common word at the start of a sentence ("Bind to ...")."""
    return (
        ent.kind != "PERSON"
        and " " not in ent.text
        and is_vocabulary(ent.text.lower())
        and _sentence_initial(text, ent.start)
    )


def _sentence_initial(text: str, start: int) -> bool:
    return _SENTENCE_START.search(text[max(0, start - 12) : start]) is not None


def replacements(
    text: str, entities: Iterable[ner.Entity], tokens: Iterable[ner.Token]
) -> list[Replacement]:
    """What the allowlist replaces in `text`, given NER entities and tagged tokens."""
    out: list[Replacement] = []
    taken: list[tuple[int, int]] = []
    public: list[tuple[int, int]] = []
    for ent in entities:
        if not ent.kind:
            if ent.label in _PUBLIC_LABELS:
                public.append((ent.start, ent.end))
        elif (
            useful_entity(ent.text)
            and not PLACEHOLDER.search(ent.text)
            and not _capitalised_word(text, ent)
        ):
            start, end = _trim(text, ent.start, ent.end)
            if end > start:
                out.append(Replacement(start, end, ent.kind))
                taken.append((start, end))
    proper = {t.start: t for t in tokens if t.proper}
    for match in _TOKEN.finditer(text):
        start, end = match.span()
        if any(s <= start < e for s, e in taken):
            continue
        token = match.group(0)
        kind = token_kind(token)
        if (
            kind is None
            and not (any(s <= start < e for s, e in public) and zipf(token.lower()) >= PUBLIC_ZIPF)
            and _is_name_like(text, token, start, start in proper)
        ):
            kind = "NAME"
        if kind:
            out.append(Replacement(start, end, kind))
    return sorted(out, key=lambda r: r.start)


# Entity labels whose frequent words are not names ("English", "Christmas", "March").
_PUBLIC_LABELS = frozenset({"DATE", "TIME", "LANGUAGE", "NORP", "EVENT", "LAW", "CARDINAL"})
NAME_ZIPF = 4.0
PUBLIC_ZIPF = 4.5  # a Title-case word rarer than this, used as a name, is taken for one


def _is_name_like(text: str, token: str, start: int, proper: bool) -> bool:
    """A Title-case word that is not technical, a day or a month, and either tagged a proper
    noun or used mid-sentence, and rarer than NAME_ZIPF ("Rhys", "Ingrid"; not "English")."""
    lower = token.lower()
    if not token[:1].isupper() or token.isupper() or is_technical(lower) or lower in _DAYS_MONTHS:
        return False
    if zipf(lower) >= NAME_ZIPF and not (proper and not _sentence_initial(text, start)):
        return False
    return proper or not _sentence_initial(text, start)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop a leading greeting or verb spaCy glued onto a name ("Dear Zoë", "Tell Mohammed")
    and a trailing possessive."""
    words = text[start:end].split(" ")
    while len(words) > 1 and words[0].lower() in _LEADING:
        start += len(words[0]) + 1
        words = words[1:]
    value = text[start:end]
    for suffix in ("'s", "’s"):
        if value.endswith(suffix):
            end -= len(suffix)
    return start, end


_LEADING = frozenset(
    """
    dear hi hello hey thanks tell ask ping cc mr mrs ms dr prof the with from to by and
    """.split()  # noqa: SIM905
)


def apply(text: str, items: list[Replacement]) -> str:
    """Replace `items` (sorted, possibly overlapping) and merge runs like "<PERSON> <PERSON>"."""
    pieces: list[str] = []
    cursor = 0
    for item in items:
        if item.start < cursor:
            continue
        pieces.append(text[cursor : item.start])
        pieces.append(f"<{item.kind}>")
        cursor = item.end
    pieces.append(text[cursor:])
    merged = _COLLAPSE.sub(lambda m: f"<{m.group(1)}>", "".join(pieces))
    return _NAME_RUN.sub("<PERSON>", merged)
