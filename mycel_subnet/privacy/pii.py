"""PII removal: presidio's recognisers plus our own, merged, replaced by typed placeholders
such as ``<EMAIL>`` or ``<API_KEY>``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mycel_subnet.privacy.presidio_engine import get_analyzer, presidio_spans
from mycel_subnet.privacy.recognisers import Span, _public_ip, find_spans

# Higher wins when two detections overlap with the same length.
PRIORITY = {"PRIVATE_KEY": 9, "URL": 8, "API_KEY": 7, "EMAIL": 6, "IBAN": 5, "CREDIT_CARD": 5}
MAX_TEXT = 1_000_000


@dataclass(frozen=True)
class PiiFinding:
    """What was removed: its type and span in the ORIGINAL text (the value itself is not kept)."""

    type: str
    start: int
    end: int
    source: str


@dataclass(frozen=True)
class Redaction:
    """Redacted text, the findings, and which engines ran ("presidio+regex" or "regex")."""

    text: str
    findings: tuple[PiiFinding, ...] = field(default_factory=tuple)
    engine: str = "regex"

    def types(self) -> set[str]:
        return {f.type for f in self.findings}


def placeholder(kind: str) -> str:
    return f"<{kind}>"


def _select(spans: list[Span]) -> list[Span]:
    """Non-overlapping spans: longest first, then by priority."""
    ordered = sorted(spans, key=lambda s: (-(s.end - s.start), -PRIORITY.get(s.type, 0), s.start))
    chosen: list[Span] = []
    for span in ordered:
        if all(span.end <= c.start or span.start >= c.end for c in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def remove_pii(text: str, *, use_presidio: bool = True, model_dir: Path | None = None) -> Redaction:
    """Replace personal data and secrets in ``text`` with typed placeholders.

    presidio runs when it can load (offline, blank spaCy pipeline); otherwise only the regex
    recognisers run and a warning is logged once. ``use_presidio=False`` forces regex only.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is {len(text)} chars; the limit is {MAX_TEXT}")
    spans = list(find_spans(text))
    engine = "regex"
    analyzer = get_analyzer(model_dir) if use_presidio else None
    if analyzer is not None:
        engine = "presidio+regex"
        for kind, start, end in presidio_spans(analyzer, text):
            if kind == "IP_ADDRESS" and not _public_ip(text[start:end]):
                continue
            spans.append(Span(kind, start, end, "presidio"))
    chosen = _select(spans)
    pieces, cursor = [], 0
    for span in chosen:
        pieces.append(text[cursor : span.start])
        pieces.append(placeholder(span.type))
        cursor = span.end
    pieces.append(text[cursor:])
    findings = tuple(PiiFinding(s.type, s.start, s.end, s.source) for s in chosen)
    return Redaction(text="".join(pieces), findings=findings, engine=engine)
