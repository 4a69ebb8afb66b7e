"""Engine fixtures: the real MiniLM embedder, the real sandbox and the real privacy pipeline.

Only the language model is replaced where a test needs a predictable answer (a scripted
backend from tests/intelligence) or speed (a tiny random model with the real SmolLM2 tokenizer);
one slow test runs the real SmolLM2.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def embedder():
    import torch

    from mycel_subnet.intelligence.embeddings import MiniLMEmbedder

    torch.set_num_threads(1)
    return MiniLMEmbedder()


@pytest.fixture(scope="session")
def baseline(embedder):
    from mycel_subnet.engines import PatternEngine

    return PatternEngine(None, embedder)


@pytest.fixture(scope="session")
def lexical():
    """The baseline without any embedding model: lexical similarity only."""
    from mycel_subnet.engines import PatternEngine

    return PatternEngine(None, None)
