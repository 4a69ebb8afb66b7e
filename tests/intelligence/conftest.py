"""Shared fixtures: one thread for torch, and one tiny random model per test session."""

from __future__ import annotations

import pytest
import torch

from mycel_subnet.intelligence.llm.transformers_backend import (
    TransformersBackend,
    tiny_random_backend,
)

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_backend() -> TransformersBackend:
    """A 2-layer random Llama with the real SmolLM2 tokenizer (loads in a few seconds)."""
    backend = tiny_random_backend(seed=0)
    backend.load()
    return backend
