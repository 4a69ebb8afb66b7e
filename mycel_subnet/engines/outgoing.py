"""The final check before anything leaves: every string of a pattern against every private
value learned from the log, in every view the scrubber knows (not the detectors again, which
already missed whatever is left).

Pieces (a sentence, a step) that still carry a learned value are dropped before assembly;
the assembled pattern is checked whole, and a leak there refuses it, naming only the kinds.
"""

from __future__ import annotations

import io
import tokenize
from collections.abc import Iterable
from typing import Any

from mycel_subnet.privacy.scrubber import InteractionScrubber

# Fields that are ours, not the log's: the pattern id is a hash, the time and creator are set
# by the miner.
OWN_FIELDS = frozenset({"id", "created_at", "creator"})


def strings_of(value: Any, *, skip: frozenset[str] = OWN_FIELDS) -> list[str]:
    """Every string value inside a JSON-like value (a pattern's `model_dump`); the keys are
    the protocol's field names, not text from the log."""
    out: list[str] = []
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key in skip:
                continue
            out.extend(strings_of(item, skip=skip))
    elif isinstance(value, (list, tuple)):
        for item in value:
            out.extend(strings_of(item, skip=skip))
    return out


# Kinds the allowlist and NER give to words it does not know ("Luhn", "Counter", "MRZ"). In
# code, identifiers are kept by design (they are the code); such a word inside an identifier
# is the program's vocabulary, not the person's. Everywhere else in code (literals, comments)
# and for every other kind (PERSON, EMAIL, keys...) the check is the same as for prose.
IDENTIFIER_OK_KINDS = frozenset({"TERM", "NAME", "ORG", "LOCATION"})


def split_identifiers(code: str) -> tuple[str, str]:
    """(the code with its Python identifiers blanked, the identifiers joined by spaces);
    code that does not tokenize is all non-identifier text."""
    names: list[str] = []
    pieces: list[str] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type == tokenize.NAME:
                names.append(token.string)
                pieces.append(" ")
            else:
                pieces.append(token.string + " ")
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return code, ""
    return "".join(pieces), " ".join(names)


def code_leaked_kinds(scrubber: InteractionScrubber, code: str, entrypoint: str) -> list[str]:
    """Kinds of learned values in a code template: any kind outside identifiers, and in
    identifiers (the entrypoint included) every kind but the allowlist's word kinds."""
    rest, names = split_identifiers(code)
    kinds = set(leaked_kinds(scrubber, [rest]))
    for name in {*names.split(), entrypoint} - {""}:  # one token each: no match across names
        for secret in scrubber.leaks(name):
            if secret.kind not in IDENTIFIER_OK_KINDS:
                kinds.add(secret.kind)
    return sorted(kinds)


def leaked_kinds(scrubber: InteractionScrubber, texts: Iterable[str]) -> list[str]:
    """Kinds of learned values still present in any of `texts` (sorted, each once)."""
    kinds: set[str] = set()
    for text in texts:
        if text:
            kinds.update(secret.kind for secret in scrubber.leaks(text))
    return sorted(kinds)


def clean_pieces(scrubber: InteractionScrubber, pieces: Iterable[str]) -> tuple[list[str], int]:
    """The pieces that carry no learned value, and how many were dropped."""
    kept, dropped = [], 0
    for piece in pieces:
        if scrubber.leaks(piece):
            dropped += 1
        else:
            kept.append(piece)
    return kept, dropped


def leak_reason(kinds: list[str]) -> str:
    """A refusal reason that names the kinds, never the values."""
    return (
        "personal data could not be removed reliably (still present: "
        f"{', '.join(kinds[:6])}); nothing is shared"
    )
