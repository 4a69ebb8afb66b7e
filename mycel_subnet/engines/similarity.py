"""Calibrated text similarity: sentence embeddings when an embedder is given, blended with a
lexical overlap that is always available. Scores are mapped to 0..1 so that paraphrases land
near 1 and unrelated texts near 0, whichever measure is in use."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

import numpy as np

from mycel_subnet.engines.text import clip01, lexical_similarity
from mycel_subnet.intelligence.embeddings import Embedder

log = logging.getLogger(__name__)

# MiniLM cosine: unrelated sentences sit around 0.0-0.15, same-task paraphrases 0.55-0.85.
EMBED_FLOOR, EMBED_FULL = 0.15, 0.65
# Binary word cosine: half the content words shared already means "same request".
LEXICAL_FULL = 0.5
EMBED_WEIGHT = 0.75
_CACHE_SIZE = 2048


class Similarity:
    """sim(a, b) in 0..1. Thread-safe; caches embeddings of recently seen texts."""

    def __init__(self, embedder: Embedder | None) -> None:
        self.embedder = embedder
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._failed = False

    @property
    def kind(self) -> str:
        return "embedding+lexical" if self.embedder is not None and not self._failed else "lexical"

    def _vectors(self, texts: list[str]) -> np.ndarray | None:
        if self.embedder is None or self._failed:
            return None
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            try:
                rows = self.embedder.embed(missing)
            except Exception as exc:  # a broken embedder degrades to lexical, loudly, once
                log.warning("embedder failed (%s); falling back to lexical similarity", exc)
                self._failed = True
                return None
            with self._lock:
                for text, row in zip(missing, rows, strict=True):
                    self._cache[text] = row
                    self._cache.move_to_end(text)
                while len(self._cache) > _CACHE_SIZE:
                    self._cache.popitem(last=False)
        with self._lock:
            return np.stack([self._cache[t] for t in texts])

    def many(self, query: str, texts: list[str]) -> list[float]:
        """Similarity of `query` to each of `texts`, calibrated to 0..1."""
        if not texts:
            return []
        lexical = [clip01(lexical_similarity(query, t) / LEXICAL_FULL) for t in texts]
        vectors = self._vectors([query, *texts])
        if vectors is None:
            return lexical
        cosines = vectors[1:] @ vectors[0]
        out = []
        for cos, lex in zip(cosines, lexical, strict=True):
            emb = clip01((float(cos) - EMBED_FLOOR) / (EMBED_FULL - EMBED_FLOOR))
            out.append(EMBED_WEIGHT * emb + (1 - EMBED_WEIGHT) * lex)
        return out

    def one(self, a: str, b: str) -> float:
        return self.many(a, [b])[0]
