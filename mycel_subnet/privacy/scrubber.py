"""One scrubber per interaction log, used by the engines and the pipeline alike.

Learn from every turn and every code block first (regex detectors with check digits, cue rules,
the NER model, the allowlist's rare capitalised words), then scrub each piece that will be
shared, then ask `leaks` about every string that leaves. `leaks` looks for every learned value
in every view of the text (escaped, case- and accent-folded, separators removed, base64, any
8-character run of a key or password): it never re-runs the detectors that may have missed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mycel_subnet.privacy import allowlist, code_segments, fields, ner, views
from mycel_subnet.privacy.pii import MAX_TEXT, _select
from mycel_subnet.privacy.recognisers import Span, find_spans
from mycel_subnet.privacy.vocabulary import is_vocabulary, zipf

MIN_LEN = 3
# Values matched anywhere (even glued into a longer word, "jurgenmuller.dev") from this length
# of their separator-free folded form; shorter ones need a non-letter on both sides.
ANYWHERE_LEN = 7
RARE_WORD_LEN = 8  # a rare single word this long is matched anywhere too
PARTIAL_LEN = 8  # any run this long of a key, token or password counts as a leak
PARTIAL_KINDS = frozenset(
    {"API_KEY", "PASSWORD", "PRIVATE_KEY", "CERTIFICATE", "URL", "SLACK_ID", "LOGIN"}
)
WORDLIKE = frozenset(
    {"PERSON", "NAME", "TERM", "LOCATION", "ORG", "USERNAME", "SECURITY_ANSWER", "HOST"}
)
_PUBLIC_MAIL = frozenset(
    """
    gmail.com googlemail.com outlook.com hotmail.com live.com yahoo.com icloud.com me.com
    proton.me protonmail.com aol.com gmx.de gmx.net web.de mail.ru yandex.ru qq.com example.com
    example.org example.net test.com
    """.split()  # noqa: SIM905
)
_PARTICLES = frozenset(
    """
    van der den de la le von da dos das di du del della ter ten bin ibn al el mac ap
    """.split()  # noqa: SIM905
)
_TITLES = frozenset(
    """
    mr mrs ms mx dr prof sir dame herr frau mme mlle
    """.split()  # noqa: SIM905
)
_TRANSLIT = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "ae", "Ö": "oe", "Ü": "ue", "ß": "ss", "å": "aa",
     "Å": "aa", "ø": "oe", "Ø": "oe", "æ": "ae"}
)  # fmt: skip
_PEM_LINE = re.compile(r"-----(?:BEGIN|END) [A-Z0-9 ]+-----")
_SPLIT_NAME = re.compile(r"[\s\-'’.]+")


@dataclass(frozen=True)
class Secret:
    """A private value learned from the log: the exact text and its upper-case kind."""

    value: str = field(repr=False)
    kind: str


def _wordlike(kind: str) -> bool:
    return kind in WORDLIKE


class _Needle:
    """One learned value, pre-folded for fast matching in every view."""

    def __init__(self, secret: Secret) -> None:
        self.secret = secret
        value = secret.value
        if secret.kind in {"PRIVATE_KEY", "CERTIFICATE"}:
            value = _PEM_LINE.sub(" ", value)
        forms = {views.fold(value), views.fold(value.translate(_TRANSLIT))}
        self.folded = {f.strip() for f in forms if len(f.strip()) >= MIN_LEN}
        self.compact = {views.strip_separators(f) for f in self.folded}
        self.compact = {c for c in self.compact if len(c) >= MIN_LEN}
        # Where a separator-free match anywhere (even inside a longer word) counts: keys, ids,
        # numbers and addresses of 5+ characters, and multi-word names of 7+ ("jurgenmuller").
        # A single word ("Anna") needs a non-letter on both sides, so "Annapolis" stays.
        if not _wordlike(secret.kind):
            self.min_anywhere = 5
        elif secret.kind == "PERSON" and any(re.search(r"[\s\-]", f) for f in self.folded):
            self.min_anywhere = ANYWHERE_LEN
        elif len(value) >= RARE_WORD_LEN and not is_vocabulary(value.lower()):
            self.min_anywhere = RARE_WORD_LEN  # "Llewellyn" also as "L.L.E.W.E.L.L.Y.N"
        else:
            self.min_anywhere = 0
        self.windows: set[str] = set()
        if secret.kind in PARTIAL_KINDS:
            for c in self.compact:
                self.windows |= {c[i : i + PARTIAL_LEN] for i in range(len(c) - PARTIAL_LEN + 1)}
        if secret.kind == "MNEMONIC":
            words = views.fold(value).replace(",", " ").split()
            self.windows = {"".join(words[i : i + 3]) for i in range(len(words) - 2)}
        bounded = sorted(self.folded, key=len, reverse=True)
        self.pattern = re.compile(
            "|".join(rf"(?<![^\W\d_]){_flex(f)}(?![^\W\d_])" for f in bounded)
        ) if bounded else None  # fmt: skip

    def find(self, view: views.View, packed: views.View) -> list[tuple[int, int]]:
        """Spans of the original text where this value appears."""
        found: list[tuple[int, int]] = []
        if self.pattern is not None:
            found += [view.span(*m.span()) for m in self.pattern.finditer(view.text)]
        if self.min_anywhere:
            for needle in self.compact:
                if len(needle) < self.min_anywhere:
                    continue
                start = packed.text.find(needle)
                while start >= 0:
                    found.append(packed.span(start, start + len(needle)))
                    start = packed.text.find(needle, start + 1)
        return found


def _flex(folded: str) -> str:
    """A regex for a folded value in which each run of separators may be any separators."""
    parts = [re.escape(p) for p in re.split(r"[\s\-._/]+", folded) if p]
    return r"[\s\-._/]*".join(parts)


class InteractionScrubber:
    """One per interaction log: learn from every turn and code block first, then scrub."""

    def __init__(self, *, use_ner: bool = True) -> None:
        self.use_ner = use_ner
        self._known: dict[str, str] = {}
        self._needles: dict[str, _Needle] = {}
        self._removed: set[str] = set()
        # texts already learned: their entities and names are known values, so scrub() need
        # not run the model on them again (it still runs the detectors and the allowlist)
        self._seen: set[int] = set()

    # ----------------------------------------------------------------- learning
    def learn(self, text: str, *, code_language: str | None = None) -> None:
        """Find private values in `text` (prose, or code/config when code_language is given,
        "" for an untagged block) and remember them with their kind."""
        _check(text)
        self._seen.add(hash((text, code_language)))
        spans = _detect(text, code_language)
        for span in spans:
            self._add(text[span.start : span.end], span.type)
        if code_language is not None and code_language.lower() in {"csv", "tsv"}:
            for value, kind in fields.csv_values(text, code_language):
                self._add(value, kind)
        for value, kind in fields.keyed_values(text):
            if _plausible(value, kind):
                self._add(value, kind)
        text = _replace(text, _select(spans), set())
        regions = self._prose_regions(text, code_language)
        found = self._prose_replacements([text[s:e] for s, e in regions])
        for (start, end), items in zip(regions, found, strict=True):
            piece = text[start:end]
            for item in items:
                value = piece[item.start : item.end]
                if item.kind in {"PERSON", "LOCATION", "ORG"} or (
                    item.kind in {"NAME", "TERM"} and _capitalised_or_foreign(value)
                ):
                    self._add(value, item.kind)

    def _add(self, value: str, kind: str) -> None:
        value = value.strip()
        if _wordlike(kind):
            value = value.strip(".,;:!?\"'`()[]{}")
        if len(value) < MIN_LEN or allowlist.PLACEHOLDER.fullmatch(value):
            return
        self._remember(value, kind)
        for part, part_kind in _derived(value, kind):
            self._remember(part, part_kind)

    def _remember(self, value: str, kind: str) -> None:
        if len(value) >= MIN_LEN and value not in self._known:
            self._known[value] = kind
            self._needles[value] = _Needle(Secret(value, kind))

    # ----------------------------------------------------------------- scrubbing
    def scrub(self, text: str, *, code_language: str | None = None) -> str:
        """Learned values (in any view) and detected values become ``<KIND>``; prose, and the
        literals, comments and config values of code, also go through the allowlist."""
        _check(text)
        use_ner = self.use_ner and hash((text, code_language)) not in self._seen
        text = self._replace_learned(text)
        spans = [s for s in _detect(text, code_language) if not _inside_placeholder(text, s)]
        for span in spans:
            self._add(text[span.start : span.end], span.type)
        text = _replace(text, _select(spans), self._removed)
        regions = self._prose_regions(text, code_language)
        found = self._prose_replacements([text[s:e] for s, e in regions], use_ner=use_ner)
        pieces, cursor = [], 0
        for (start, end), items in zip(regions, found, strict=True):
            pieces.append(text[cursor:start])
            piece = text[start:end]
            self._removed |= {i.kind for i in items}
            pieces.append(allowlist.apply(piece, items))
            cursor = end
        pieces.append(text[cursor:])
        return "".join(pieces)

    def _replace_learned(self, text: str) -> str:
        if not self._needles or not text:
            return text
        view = views.decoded(text)
        packed = views.compact(view)
        spans = []
        for needle in self._needles.values():
            for start, end in needle.find(view, packed):
                spans.append(Span(needle.secret.kind, start, end, "learned"))
        return _replace(text, _select(spans), self._removed)

    def _prose_regions(self, text: str, code_language: str | None) -> list[tuple[int, int]]:
        if code_language is None or code_language.lower() in {"markdown", "md", "text", "txt"}:
            return [(0, len(text))] if text else []
        return code_segments.segments(text, code_language)

    def _prose_replacements(
        self, texts: list[str], *, use_ner: bool | None = None
    ) -> list[list[allowlist.Replacement]]:
        run = self.use_ner if use_ner is None else use_ner
        analysed = ner.analyse_many(texts) if run else [([], [])] * len(texts)
        return [
            allowlist.replacements(text, entities, tokens)
            for text, (entities, tokens) in zip(texts, analysed, strict=True)
        ]

    # ----------------------------------------------------------------- the final check
    def leaks(self, text: str) -> list[Secret]:
        """The learned secrets that still appear in `text` in any view."""
        if not isinstance(text, str) or not text or not self._needles:
            return []
        texts = [text, *views.base64_texts(text)]
        found: list[Secret] = []
        for candidate in texts:
            view = views.decoded(candidate)
            packed = views.compact(view)
            grams = {packed.text[i : i + PARTIAL_LEN] for i in range(len(packed.text))}
            words = view.text.replace(",", " ").split()
            triples = {"".join(words[i : i + 3]) for i in range(len(words) - 2)}
            for needle in self._needles.values():
                if needle.secret in found:
                    continue
                hit = bool(needle.find(view, packed))
                if not hit and needle.windows:
                    pool = triples if needle.secret.kind == "MNEMONIC" else grams
                    hit = not needle.windows.isdisjoint(pool)
                if hit:
                    found.append(needle.secret)
        return found

    @property
    def secrets(self) -> tuple[Secret, ...]:
        return tuple(n.secret for n in self._needles.values())

    @property
    def removed_kinds(self) -> frozenset[str]:
        return frozenset(self._removed)


def _detect(text: str, code_language: str | None) -> list[Span]:
    spans = [*find_spans(text), *fields.date_spans(text)]
    if code_language is None:
        spans += fields.password_spans(text)
    return spans


def _plausible(value: str, kind: str) -> bool:
    """A keyed value ("name: ...", "email = ...") that could be what its key says: not a
    lower-case phrase of common words ("user: please help me")."""
    words = re.findall(r"[^\W\d_]+", value)
    if value == value.lower() and words and all(is_vocabulary(w) for w in words):
        return False
    if kind == "PERSON":
        return 0 < len(words) <= 5 and all(w[:1].isupper() for w in words if len(w) > 3)
    return len(value) <= 120


def _check(text: object) -> None:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is {len(text)} chars; the limit is {MAX_TEXT}")


def _inside_placeholder(text: str, span: Span) -> bool:
    return any(
        m.start() <= span.start < m.end() or m.start() < span.end <= m.end()
        for m in allowlist.PLACEHOLDER.finditer(text, max(0, span.start - 40), span.end + 40)
    )


def _replace(text: str, spans: list[Span], removed: set[str]) -> str:
    pieces, cursor = [], 0
    for span in spans:
        if span.start < cursor:
            continue
        pieces.append(text[cursor : span.start])
        pieces.append(f"<{span.type}>")
        removed.add(span.type)
        cursor = span.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _capitalised_or_foreign(value: str) -> bool:
    return value[:1].isupper() or any(ord(ch) > 127 for ch in value)


def _derived(value: str, kind: str) -> list[tuple[str, str]]:
    """Parts of a value that identify on their own: a name's words, an e-mail's local part and
    private domain, a login's user and host, a profile link's handle, a phone's digits."""
    out: list[tuple[str, str]] = []
    if kind in {"PERSON", "NAME"}:
        parts = [p for p in _SPLIT_NAME.split(value) if len(p) >= MIN_LEN]
        for part in parts:
            lower = part.lower()
            if lower not in _PARTICLES and lower not in _TITLES and zipf(lower) < 5.5:
                out.append((part, "PERSON"))
    elif kind in {"EMAIL", "LOGIN"}:
        local, _, domain = value.partition("@")
        out.append((local, "USERNAME" if kind == "LOGIN" else "EMAIL"))
        out += [(p, "PERSON") for p in re.split(r"[._+\-]", local) if _namey(p)]
        if domain and domain.lower() not in _PUBLIC_MAIL:
            out.append((domain, "HOST"))
    elif kind == "PROFILE_URL":
        handle = value.rstrip("/").rsplit("/", 1)[-1].lstrip("@")
        out.append((handle, "USERNAME"))
        out += [(p, "PERSON") for p in re.split(r"[._\-]", handle) if _namey(p)]
    elif kind == "HOST":
        out += [(p, "HOST") for p in re.split(r"[.\-]", value) if _namey(p)]
    elif kind == "PHONE":
        number = re.sub(r"\D", "", value)
        out.append((number, "PHONE"))
        if len(number) > 9:
            out.append((number[-9:], "PHONE"))
    elif kind == "ADDRESS":
        out += [(p.strip(), "ADDRESS") for p in value.split(",") if len(p.strip()) >= 5]
    elif kind == "URL" and "@" in value:
        creds = value.split("://", 1)[-1].split("@", 1)[0]
        out += [(p, "PASSWORD") for p in creds.split(":") if len(p) >= 4]
    return out


def _namey(part: str) -> bool:
    """A piece of a handle or host that could be a name: letters only, not vocabulary."""
    return len(part) >= MIN_LEN and part.isalpha() and not is_vocabulary(part)
