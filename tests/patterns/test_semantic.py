"""Semantic ranking with the real all-MiniLM-L6-v2 model (loaded once for this module, one torch
thread): the pattern that means what the context asks for beats decoys that share its words."""

from __future__ import annotations

import pytest
import torch

from mycel_subnet.intelligence.embeddings import HashingEmbedder, MiniLMEmbedder
from mycel_subnet.patterns import PatternDiscovery, PatternStore
from tests.patterns.conftest import code_pattern, prompt_pattern

pytestmark = pytest.mark.slow

LEGAL = prompt_pattern(
    "Explain the duties a contract clause imposes on each party",
    "Explain the duties this agreement section places on each party: {text}",
    domain="legal",
)
LEGAL_DECOYS = [
    prompt_pattern("Summarise a customer support ticket", "Summarise: {text}", domain="legal"),
    prompt_pattern(
        "Key summary of the summer contest for clients", "Announce: {text}", domain="legal"
    ),
    code_pattern("Contract a list by removing the key obligations column", domain="legal"),
]
CONTEXT = "Summarise the key obligations in this contract clause for a client"


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    torch.set_num_threads(1)
    return MiniLMEmbedder()


@pytest.mark.asyncio
async def test_meaning_beats_shared_words(tmp_path, minilm):
    with PatternStore(tmp_path / "p.db", minilm) as store:
        store.put_many([*LEGAL_DECOYS, LEGAL])
        discovery = PatternDiscovery(store, minilm, min_similarity=-1.0)
        ranked = await discovery.discover(CONTEXT, k=4)
        assert ranked[0].pattern_id == LEGAL.id
        assert ranked[0].score.similarity - ranked[1].score.similarity > 0.03
        # The default similarity floor (0.2) keeps the related decoys, drops nothing relevant.
        kept = await PatternDiscovery(store, minilm).discover(CONTEXT, k=4)
        assert kept[0].pattern_id == LEGAL.id


@pytest.mark.asyncio
async def test_word_overlap_alone_gets_it_wrong(tmp_path):
    """The control: the lexical hashing embedder prefers a decoy, so the test above measures
    meaning, not wording."""
    with PatternStore(tmp_path / "p.db", HashingEmbedder()) as store:
        store.put_many([*LEGAL_DECOYS, LEGAL])
        ranked = await PatternDiscovery(store, min_similarity=-1.0).discover(CONTEXT, k=4)
        assert ranked[0].pattern_id != LEGAL.id
