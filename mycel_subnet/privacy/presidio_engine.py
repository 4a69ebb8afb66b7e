"""Offline presidio: a blank spaCy English pipeline saved to a cache dir gives presidio an NLP
engine without downloading a model, so its pattern recognisers (e-mail, phone, card, IP, IBAN,
SSN, crypto wallet) run. tldextract, which presidio's e-mail recogniser uses, is pointed at its
bundled suffix snapshot so it never reaches the internet."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)

# presidio entity -> our placeholder type
ENTITIES = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "CREDIT_CARD": "CREDIT_CARD",
    "IP_ADDRESS": "IP_ADDRESS",
    "IBAN_CODE": "IBAN",
    "US_SSN": "SSN",
    "CRYPTO": "CRYPTO_WALLET",
}
MIN_SCORE = 0.4
_lock = threading.Lock()
_cache: dict[str, object] = {}


def default_model_dir() -> Path:
    """Where the blank pipeline lives: $MYCEL_SPACY_DIR or ~/.cache/mycel/spacy-blank-en."""
    override = os.environ.get("MYCEL_SPACY_DIR")
    if override:
        return Path(override)
    return Path.home() / ".cache" / "mycel" / "spacy-blank-en"


def _offline_tldextract() -> None:
    import tldextract
    from presidio_analyzer.predefined_recognizers.generic import email_recognizer

    extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    class _Shim:
        extract = staticmethod(extractor)

    email_recognizer.tldextract = _Shim  # type: ignore[assignment]


def _build(model_dir: Path):
    import spacy
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    if not (model_dir / "config.cfg").exists():
        model_dir.parent.mkdir(parents=True, exist_ok=True)
        spacy.blank("en").to_disk(model_dir)
    _offline_tldextract()
    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": str(model_dir)}])
    engine.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=engine)
    return AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["en"])


def get_analyzer(model_dir: Path | None = None):
    """The cached presidio AnalyzerEngine, or None (with a logged warning) if it cannot load."""
    path = Path(model_dir) if model_dir is not None else default_model_dir()
    key = str(path)
    with _lock:
        if key not in _cache:
            try:
                _cache[key] = _build(path)
            except Exception as exc:  # any import/load failure means: fall back to regex only
                log.warning(
                    "presidio unavailable (%s: %s); PII removal falls back to regex recognisers",
                    type(exc).__name__,
                    exc,
                )
                _cache[key] = None
        return _cache[key]


def presidio_spans(analyzer, text: str) -> list[tuple[str, int, int]]:
    """(type, start, end) for presidio's findings at or above MIN_SCORE."""
    results = analyzer.analyze(text=text, language="en", entities=list(ENTITIES))
    return [
        (ENTITIES[r.entity_type], r.start, r.end)
        for r in results
        if r.score >= MIN_SCORE and r.entity_type in ENTITIES
    ]
