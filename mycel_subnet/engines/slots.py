"""Filling a template's named variables from what a request carries: its facts (by name), then
the specifics found in its text by the same generaliser that created the variables (so a
`{company}` or `{amount_2}` written by `generate_pattern` finds the company or the second
amount), then personal-data kinds (`{email}`, `{phone}`, `{person}`), then the whole text for
generic names such as `{text}` or `{input}`."""

from __future__ import annotations

import re
from collections.abc import Mapping

from mycel_subnet.engines.text import content_words, norm_label
from mycel_subnet.privacy.generalise import generalise
from mycel_subnet.privacy.recognisers import find_spans

_SUFFIX = re.compile(r"_(\d+)$")
WHOLE_TEXT = frozenset(
    {"text", "input", "query", "request", "details", "content", "message", "task", "prompt", "data"}
)
SYNONYMS = {
    "name": "person",
    "full_name": "person",
    "customer": "person",
    "mail": "email",
    "email_address": "email",
    "phone_number": "phone",
    "link": "url",
    "value": "number",
    "n": "number",
    "x": "number",
    "count": "number",
    "quantity": "number",
    "price": "amount",
    "total": "amount",
    "string": "quoted",
    "word": "quoted",
    "company_name": "company",
    "organisation": "company",
    "organization": "company",
}


def base_and_index(variable: str) -> tuple[str, int]:
    """("amount_2") -> ("amount", 2); ("amount") -> ("amount", 1)."""
    match = _SUFFIX.search(variable)
    if match and match.start() > 0:
        return variable[: match.start()], int(match.group(1))
    return variable, 1


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    if len(value) >= 2 and value[0] == "“" and value[-1] == "”":
        return value[1:-1]
    return value


def _fact_for(variable: str, facts: Mapping[str, str]) -> str | None:
    want = norm_label(variable)
    base = norm_label(base_and_index(variable)[0])
    for key, value in facts.items():
        if norm_label(key) in (want, base):
            return value
    want_words = set(content_words(want))
    for key, value in facts.items():
        have = set(content_words(norm_label(key)))
        if want_words and have and (want_words <= have or have <= want_words):
            return value
    return None


def text_values(text: str) -> dict[str, list[str]]:
    """Specifics in `text` grouped by kind, in order of appearance."""
    found: dict[str, list[str]] = {}
    spans = sorted(find_spans(text), key=lambda s: s.start)
    for span in spans:
        found.setdefault(span.type.lower(), []).append(text[span.start : span.end])
    general = generalise(text)
    for name, value in general.variables.items():
        kind, _ = base_and_index(name)
        found.setdefault(kind, []).append(_unquote(value))
    return found


def find_values(variables: list[str], facts: Mapping[str, str], text: str) -> dict[str, str]:
    """A value for every variable that can be filled; unfillable ones are left out."""
    values: dict[str, str] = {}
    by_kind: dict[str, list[str]] | None = None
    for variable in variables:
        fact = _fact_for(variable, facts)
        if fact is not None:
            values[variable] = fact
            continue
        if by_kind is None:
            by_kind = text_values(text)
        base, index = base_and_index(variable)
        kind = SYNONYMS.get(base, base)
        candidates = by_kind.get(kind) or by_kind.get(base) or []
        if len(candidates) >= index:
            values[variable] = candidates[index - 1]
        elif base in WHOLE_TEXT and text.strip():
            values[variable] = text.strip()
    return values
