"""Views of a text in which a private value can hide: escaped (URL %XX, HTML entities, JSON
\\uXXXX and \\xXX), upper- or lower-cased, accented or not, with or without separators. A view
keeps, for every character, the span of the original text it came from, so a match found in a
view can be replaced in the original."""

from __future__ import annotations

import base64
import binascii
import html
import re
import unicodedata
import urllib.parse
from dataclasses import dataclass

SEPARATORS = frozenset(" \t\r\n-._/\\:+,;|'\"()[]{}<>*~`")
_ESCAPE = re.compile(
    r"((?:%[0-9A-Fa-f]{2})+)|&(#\d{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
    r"|\\u([0-9A-Fa-f]{4})|\\x([0-9A-Fa-f]{2})|\\([nrt/\\\"'])"
)
_SIMPLE = {"n": "\n", "r": "\r", "t": "\t"}


@dataclass(frozen=True)
class View:
    """`text` with, for character i, the original span starts[i]..ends[i]."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.starts[start], self.ends[end - 1]


def fold_char(char: str) -> str:
    """Case- and accent-folded form of one character ("Ü" -> "u", "ß" -> "ss", "ø" -> "o")."""
    special = {"ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "æ": "ae", "Æ": "ae"}
    if char in special:
        return special[char]
    decomposed = unicodedata.normalize("NFKD", char)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def fold(text: str) -> str:
    return "".join(fold_char(c) for c in text)


def strip_separators(text: str) -> str:
    return "".join(c for c in text if c not in SEPARATORS)


def _unescape_once(text: str, starts: list[int], ends: list[int]) -> tuple[str, list, list]:
    out: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    cursor = 0
    for match in _ESCAPE.finditer(text):
        for i in range(cursor, match.start()):
            out.append(text[i])
            new_starts.append(starts[i])
            new_ends.append(ends[i])
        pct, entity, uni, hexa, simple = match.groups()
        if pct:
            char = urllib.parse.unquote(pct, errors="replace")
        elif entity:
            char = html.unescape(f"&{entity};")
            if char == f"&{entity};":
                char = ""
        elif uni:
            char = chr(int(uni, 16))
        elif hexa:
            char = chr(int(hexa, 16))
        else:
            char = _SIMPLE.get(simple, simple)
        if not char:  # unknown entity: keep as is
            char = match.group(0)
        for c in char:
            out.append(c)
            new_starts.append(starts[match.start()])
            new_ends.append(ends[match.end() - 1])
        cursor = match.end()
    for i in range(cursor, len(text)):
        out.append(text[i])
        new_starts.append(starts[i])
        new_ends.append(ends[i])
    return "".join(out), new_starts, new_ends


def decoded(text: str, rounds: int = 2) -> View:
    """URL-, HTML- and JSON-unescaped (twice, for double encoding) and folded."""
    starts = list(range(len(text)))
    ends = [i + 1 for i in range(len(text))]
    for _ in range(rounds):
        if not _ESCAPE.search(text):
            break
        text, starts, ends = _unescape_once(text, starts, ends)
    return _folded(text, starts, ends)


def _folded(text: str, starts: list[int], ends: list[int]) -> View:
    out, fs, fe = [], [], []
    for char, s, e in zip(text, starts, ends, strict=True):
        for c in fold_char(char):
            out.append(c)
            fs.append(s)
            fe.append(e)
    return View("".join(out), tuple(fs), tuple(fe))


def compact(view: View) -> View:
    """The view with separators removed ("J.-P. Dupont" -> "jpdupont")."""
    keep = [i for i, c in enumerate(view.text) if c not in SEPARATORS]
    return View(
        "".join(view.text[i] for i in keep),
        tuple(view.starts[i] for i in keep),
        tuple(view.ends[i] for i in keep),
    )


_B64 = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{16,}={0,2}(?![A-Za-z0-9+/=_-])")


def base64_texts(text: str) -> list[str]:
    """Texts hidden as base64 in obvious tokens (16+ characters that decode to UTF-8)."""
    found = []
    for match in _B64.finditer(text):
        token = match.group(0)
        try:
            raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
            value = raw.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if value.isprintable():
            found.append(value)
    return found
