"""The leak judge: did any planted private item survive into what a shared pattern exposes?

Independent by design: it uses nothing from mycel_subnet (a judge that shared the scrubber's
code would share its blind spots). Everything the output exposes is serialised to JSON and every
string leaf is searched in several views, each of which undoes one way of disguising a value:

- decodings: raw, URL-decoded, HTML-unescaped, JSON-unescaped (all repeated to a fixed point);
- normalisations: exact, case-folded, accent-folded (NFKD without marks, ø/æ/ß/ł... mapped),
  separator-stripped (whitespace, - . _ / : + ( ) , and invisible format characters removed).

An item leaks when its value (normalised the same way) occurs in any view. Stricter rules by kind:
names leak by any of their parts (3+ letters; particles like "van der" excepted; parts under six
letters as whole words, longer ones as substrings, so "kowalski" inside a hostname counts) and by
the whole name run together; mnemonics by any 3 consecutive words; keys, tokens, passwords and
identifiers by any 8-character run of their private part (public vendor prefixes such as "sk_live_"
are not private and are skipped). The pattern's `id` and `created_at` are left out: they are a hash
of the judged content and the clock, never text from the log.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
import unicodedata
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tests.privacy.corpus.values import PARTIAL_KINDS, PUBLIC_PREFIXES

RUN = 8
NAME_SUBSTRING_LEN = 6
SKIPPED_FIELDS = frozenset({"id", "created_at"})
PARTICLES = frozenset(
    "van der den von de la le da das dos del di du ter ten bin ibn nic mac".split()  # noqa: SIM905
)
_FOLD = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
)
_SEPARATORS = re.compile(r"[\s\-._/:+(),'\"`]+")
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\([nrt\"\\/])")
_ASN1_RSA = "MIIEpAIBAAKCAQEA"


@dataclass(frozen=True)
class Leak:
    """One planted item found in the output: where, and in which view."""

    log_id: str
    kind: str
    value: str
    view: str
    field: str

    @property
    def masked(self) -> str:
        return self.value[:3] + "\u2026"

    def __str__(self) -> str:
        return f"{self.log_id}: {self.kind} {self.masked!r} in {self.field} ({self.view})"


# --- views ---------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Case- and accent-folded: 'Søren Łukasz Müßig' -> 'soren lukasz mussig'."""
    text = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).translate(_FOLD)


def strip_separators(text: str) -> str:
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return _SEPARATORS.sub("", text)


def _fixed_point(text: str, step) -> str:
    for _ in range(4):
        nxt = step(text)
        if nxt == text:
            break
        text = nxt
    return text


def _json_unescape(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        if m.group(1):
            return chr(int(m.group(1), 16))
        return {"n": "\n", "r": "\r", "t": "\t"}.get(m.group(2), m.group(2))

    return _JSON_ESCAPE.sub(one, text)


DECODINGS = (
    ("raw", lambda t: t),
    ("url-decoded", lambda t: _fixed_point(t, urllib.parse.unquote_plus)),
    ("html-unescaped", lambda t: _fixed_point(t, html.unescape)),
    ("json-unescaped", lambda t: _fixed_point(t, _json_unescape)),
)
NORMALISATIONS = (
    ("exact", lambda t: t),
    ("case-folded", str.casefold),
    ("accent-folded", fold),
    ("separator-stripped", lambda t: strip_separators(fold(t))),
)


def views(text: str) -> list[tuple[str, str, str]]:
    """(decoding, normalisation, text) for every view, strictest first, duplicates dropped."""
    out, seen = [], set()
    for dname, decode in DECODINGS:
        decoded = decode(text)
        for nname, normalise in NORMALISATIONS:
            viewed = normalise(decoded)
            if (nname, viewed) not in seen:
                seen.add((nname, viewed))
                out.append((dname, nname, viewed))
    return out


# --- what the output exposes ----------------------------------------------------------------


def _plain(obj: Any) -> Any:
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _plain(dataclasses.asdict(obj))
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [_plain(v) for v in obj]
    return obj


def exposed_fields(exposed: Any) -> list[tuple[str, str]]:
    """(field path, text) for every string, number and key the output carries, plus the whole
    output as JSON text (field "<json>"), so a value split by the serialisation is still seen."""
    if isinstance(exposed, (str, bytes)):
        text = exposed.decode() if isinstance(exposed, bytes) else exposed
        try:
            data = json.loads(text)
        except ValueError:
            return [("<text>", text)]
    else:
        data = _plain(exposed)
    fields: list[tuple[str, str]] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in SKIPPED_FIELDS:
                    continue
                fields.append((f"{path}{key}<key>", key))
                walk(item, f"{path}{key}.")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{path}{i}.")
        elif isinstance(value, str):
            fields.append((path.rstrip(".") or "<root>", value))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            fields.append((path.rstrip(".") or "<root>", str(value)))

    walk(data, "")

    def without_skipped(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: without_skipped(v) for k, v in value.items() if k not in SKIPPED_FIELDS}
        if isinstance(value, list):
            return [without_skipped(v) for v in value]
        return value

    fields.append(("<json>", json.dumps(without_skipped(data), ensure_ascii=True)))
    return fields


# --- matching -------------------------------------------------------------------------------


def private_core(kind: str, value: str) -> str:
    """The part of a value that is private: public vendor prefixes and PEM armour removed."""
    core = value
    if kind == "PRIVATE_KEY":
        lines = [ln for ln in value.splitlines() if ln.strip() and not ln.startswith("-----")]
        core = "".join(lines)
        core = core.removeprefix(_ASN1_RSA)
    for prefix in PUBLIC_PREFIXES:
        if core.startswith(prefix):
            core = core[len(prefix) :]
            break
    return core.lstrip(".")


def name_parts(value: str) -> list[str]:
    return [p for p in re.findall(r"[a-z]+", fold(value)) if len(p) >= 3 and p not in PARTICLES]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text)


def _found(kind: str, value: str, nname: str, viewed: str) -> str | None:
    """The rule that finds `value` in one view, or None."""
    normalise = dict(NORMALISATIONS)[nname]
    target = normalise(value)
    if len(target) >= 3 and target in viewed:
        return "whole value"
    if nname == "accent-folded" and kind == "PERSON":
        for part in name_parts(value):
            if len(part) >= NAME_SUBSTRING_LEN and part in viewed:
                return f"name part {part[:3]}\u2026"
            if re.search(rf"(?<![a-z]){part}(?![a-z])", viewed):
                return f"name part {part[:3]}\u2026"
    if nname == "accent-folded" and kind == "MNEMONIC":
        words, seen = value.split(), " ".join(_words(viewed))
        for i in range(len(words) - 2):
            if re.search(rf"(?<![a-z]){' '.join(words[i : i + 3])}(?![a-z])", seen):
                return "3 consecutive words"
    if nname == "separator-stripped" and kind in PARTIAL_KINDS:
        core = strip_separators(fold(private_core(kind, value)))
        if len(core) < RUN:
            return "whole private part" if len(core) >= 5 and core in viewed else None
        for i in range(len(core) - RUN + 1):
            if core[i : i + RUN] in viewed:
                return f"{RUN}-char run"
    return None


def find_leaks(log_id: str, items: Iterable[tuple[str, str]], exposed: Any) -> list[Leak]:
    """Every planted item found anywhere in `exposed`, once per item (first view that finds it)."""
    fields = [(path, views(text)) for path, text in exposed_fields(exposed)]
    leaks = []
    for kind, value in items:
        hit = _first_hit(kind, value, fields)
        if hit is not None:
            leaks.append(Leak(log_id, kind, value, *hit))
    return leaks


def _first_hit(kind, value, fields) -> tuple[str, str] | None:
    for path, viewed_all in fields:
        for dname, nname, viewed in viewed_all:
            rule = _found(kind, value, nname, viewed)
            if rule is not None:
                view = nname if dname == "raw" else f"{dname}, {nname}"
                return f"{view}: {rule}", path
    return None
