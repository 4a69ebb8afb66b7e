# ruff: noqa: E501 - regex rule tables read best one rule per line
"""Regex recognisers for what presidio's pattern set misses in developer text (API keys, tokens,
secrets after ``key=``, names in greetings and signatures, street addresses, URLs carrying
credentials), plus e-mail, phone, card, IP and IBAN so that redaction still works when presidio
cannot load. Checksums (Luhn, IBAN mod-97) keep digit runs in code from being over-redacted."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """One detected entity: its type (the placeholder name), where, and who found it."""

    type: str
    start: int
    end: int
    source: str = "regex"


_NAME = r"[A-Z][a-z]+(?:[ -][A-Z][a-z]+)?"
_NOT_NAMES = {
    "All",
    "Again",
    "Everyone",
    "Folks",
    "Guys",
    "There",
    "Team",
    "World",
    "For",
    "So",
    "In",
    "Practice",
    "Practices",
    "Regards",
    "Wishes",
    "The",
    "This",
    "That",
    "Thanks",
    "Please",
    "Sir",
    "Madam",
    "Python",
    "I",
}
# (type, pattern, group holding the sensitive part)
PATTERNS: list[tuple[str, re.Pattern[str], int]] = [
    (
        "PRIVATE_KEY",
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----"),
        0,
    ),
    ("URL", re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@]+:[^\s/@]+@[^\s\"'<>]+"), 0),
    ("API_KEY", re.compile(r"\bsk-(?:proj-|ant-(?:api\d+-)?|live_|test_)?[A-Za-z0-9_\-]{20,}"), 0),
    ("API_KEY", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})"), 0),
    ("API_KEY", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), 0),
    ("API_KEY", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), 0),
    ("API_KEY", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"), 0),
    (
        "API_KEY",
        re.compile(r"\b(?:hf_[A-Za-z0-9]{30,}|glpat-[A-Za-z0-9_\-]{20,}|npm_[A-Za-z0-9]{36})"),
        0,
    ),
    ("API_KEY", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), 0),
    (
        "API_KEY",
        re.compile(
            r"(?i)\b(?:[a-z_]*api[_-]?key|[a-z_]*secret(?:[_-]?key)?|[a-z_]*token|password|passwd|pwd|"
            r"access[_-]?key(?:[_-]?id)?|auth(?:orization)?|bearer|private[_-]?key)\b[\"']?\s*(?:[:=]|=>)?\s*"
            r"[\"']?(?:Bearer\s+)?([A-Za-z0-9+/_\-.~]{12,}={0,2})"
        ),
        1,
    ),
    (
        "API_KEY",
        re.compile(
            r"[?&](?:token|key|api_key|apikey|access_token|sig|signature|secret)=([^&\s\"']{8,})",
            re.I,
        ),
        1,
    ),
    ("EMAIL", re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"), 0),
    ("IBAN", re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"), 0),
    ("CREDIT_CARD", re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])"), 0),
    (
        "PHONE",
        re.compile(
            r"(?<![\w.+-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]\d{3,4}(?![\w-])"
        ),
        0,
    ),
    ("IP_ADDRESS", re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])"), 0),
    (
        "IP_ADDRESS",
        re.compile(r"(?<![\w:.])(?=[0-9a-fA-F:]*:[0-9a-fA-F:]*:)[0-9a-fA-F:]{3,39}(?![\w:])"),
        0,
    ),
    ("SSN", re.compile(r"\b\d{3}-\d{2}-\d{4}\b"), 0),
    (
        "ADDRESS",
        re.compile(
            r"\b\d{1,5}[A-Za-z]? (?:[A-Z][a-z]+ ){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|"
            r"Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Close|Square|Sq)\b\.?"
            r"(?:,? (?:Apt|Suite|Unit) \w+)?(?:, [A-Z][a-z]+(?: [A-Z][a-z]+)?)?(?:,? [A-Z]{2} \d{5})?"
        ),
        0,
    ),
    (
        "ADDRESS",
        re.compile(
            r"\b[A-Z][a-zäöüß]+(?:straße|strasse|weg|gasse|platz|allee) \d{1,4}[a-z]?\b(?:, \d{5} [A-Z][a-zäöü]+)?"
        ),
        0,
    ),
    ("PERSON", re.compile(rf"\b(?:Hi|Hello|Hey|Dear|Morning|Greetings)[ \t]+({_NAME})\b"), 1),
    (
        "PERSON",
        re.compile(
            rf"\b(?:Thanks|Thank you|Cheers|Regards|Best|Best regards|Kind regards|Sincerely|Yours|Ta)[,!]\s*({_NAME})\b"
        ),
        1,
    ),
    ("PERSON", re.compile(rf"(?m)^\s*(?:--|—|-)\s*({_NAME})\s*$"), 1),
    (
        "PERSON",
        re.compile(
            rf"\b(?:[Mm]y name is|I am|I'm|[Ss]igned|[Cc]c:?|[Ff]rom:)\s+({_NAME})\b(?!\s+(?:to|at|for|in|on|with)\b)"
        ),
        1,
    ),
    ("PERSON", re.compile(rf"\b(?:Mr|Mrs|Ms|Dr|Prof)\.? ({_NAME})\b"), 1),
]


def luhn_ok(digits: str) -> bool:
    """True when a digit string passes the Luhn checksum used by payment cards."""
    total, parity = 0, len(digits) % 2
    for index, char in enumerate(digits):
        value = int(char)
        if index % 2 == parity:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    """True when ``text`` passes the ISO 13616 mod-97 check."""
    compact = text.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def _public_ip(text: str) -> bool:
    """Loopback, unspecified and documentation-free local addresses are not personal data."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return not (address.is_loopback or address.is_unspecified)


def _valid(kind: str, value: str) -> bool:
    if kind == "CREDIT_CARD":
        digits = re.sub(r"\D", "", value)
        return 13 <= len(digits) <= 19 and luhn_ok(digits)
    if kind == "IBAN":
        return iban_ok(value)
    if kind == "IP_ADDRESS":
        return _public_ip(value)
    if kind == "PERSON":
        return value.split()[-1] not in _NOT_NAMES and value.split()[0] not in _NOT_NAMES
    if kind == "PHONE":
        return sum(ch.isdigit() for ch in value) >= 7
    return True


def find_spans(text: str) -> Iterator[Span]:
    """Every regex match that passes its validity check."""
    for kind, pattern, group in PATTERNS:
        for match in pattern.finditer(text):
            value = match.group(group)
            if value and _valid(kind, value):
                yield Span(kind, match.start(group), match.end(group))
