"""Rule-based field extraction: when the context carries labelled lines (`Invoice Number: X`)
and the request names the fields it wants, the answer is exact without any model.

Structured data first, model for what rules cannot do: a small local model asked to copy
`INV-004211` into JSON can only add mistakes. Used by inference for prompt templates that ask
for extraction; it answers only when every named field is found, otherwise the normal path
(the model, or the filled template) runs.
"""

from __future__ import annotations

import json
import re

_EXTRACTION_WORDS = re.compile(r"\bextract", re.IGNORECASE)
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def field_key(label: str) -> str:
    """`Invoice Number` -> `invoice_number` (the form requests name fields in)."""
    return _NON_ALNUM.sub("_", label.lower()).strip("_")


def asks_for_extraction(*texts: str) -> bool:
    return any(_EXTRACTION_WORDS.search(t) for t in texts)


def requested_fields(query: str, keys: list[str]) -> list[str]:
    """The keys the query names (as `due_date` or `due date`), in the order it names them."""
    found = []
    for key in keys:
        spoken = re.escape(key).replace("_", "[_ ]")
        match = re.search(rf"(?<![a-z0-9_]){spoken}(?![a-z0-9_])", query, re.IGNORECASE)
        if match:
            found.append((match.start(), key))
    return [key for _, key in sorted(found)]


def extract_fields(query: str, facts: dict[str, str]) -> str | None:
    """A JSON object of the labelled fields the query names, or None when it names none."""
    by_key: dict[str, str] = {}
    for label, value in facts.items():
        by_key.setdefault(field_key(label), value.strip())
    wanted = requested_fields(query, list(by_key))
    if not wanted:
        return None
    return json.dumps({key: by_key[key] for key in wanted}, ensure_ascii=False)
