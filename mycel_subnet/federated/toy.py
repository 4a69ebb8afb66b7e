"""A tiny word-level tokenizer, a tiny random Llama and toy private corpora, so tests and the
benchmark can run whole federated rounds on a CPU in seconds. Nothing here is used in
production: real nodes pass their own base model and tokenizer."""

from __future__ import annotations

import random
from typing import Any

_WORDS = (
    "the a to of and in for on with is are was find open read write send file files code "
    "test tests bug fix error python function class invoice invoices report search query "
    "table sum average chart email reply meeting draft please can you help me need from "
    "over all new old list show run build deploy server data user project today tomorrow"
)
TOY_WORDS = tuple(_WORDS.split())
TOY_PATTERN = list(TOY_WORDS[10:18])  # the learnable next-word cycle of the toy corpora
SPECIAL = ("<pad>", "<unk>", "<eos>")
PLACEHOLDERS = (
    "<EMAIL>",
    "<PHONE>",
    "<CREDIT_CARD>",
    "<API_KEY>",
    "<IP_ADDRESS>",
    "<URL>",
    "<PERSON>",
    "<IBAN>",
    "<ADDRESS>",
    "<PRIVATE_KEY>",
)


def toy_tokenizer() -> Any:
    """A word-level fast tokenizer (about 100 entries): placeholders such as ``<EMAIL>`` are
    single tokens and anything unknown becomes ``<unk>``."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate((*SPECIAL, *PLACEHOLDERS, *TOY_WORDS))}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split(r"<[A-Z_]+>", "isolated")]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<pad>", unk_token="<unk>", eos_token="<eos>"
    )


def tiny_llama(vocab_size: int, *, seed: int = 0, hidden: int = 32, layers: int = 2) -> Any:
    """A randomly initialised Llama small enough for DP-SGD in milliseconds per step."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        pad_token_id=0,
        bos_token_id=None,
        eos_token_id=2,
    )
    torch.manual_seed(seed)
    return LlamaForCausalLM(config).eval()


def pattern_corpus(pattern: list[str], count: int, *, seed: int, length: int = 12) -> list[str]:
    """``count`` texts that repeat ``pattern`` from a random offset: a learnable next-word task
    (each word always follows the same word), different per client through the seed."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        start = rng.randrange(len(pattern))
        texts.append(" ".join(pattern[(start + i) % len(pattern)] for i in range(length)))
    return texts
