"""Private interaction texts -> training tensors. Every text goes through
mycel_subnet.privacy.remove_pii BEFORE the tokenizer sees it, so raw personal data never
becomes token ids, gradients or an adapter update. One text is one training example (the unit
DP-SGD protects)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import TensorDataset

from mycel_subnet.privacy.pii import remove_pii

MAX_TEXTS = 100_000


@dataclass(frozen=True)
class PreparedData:
    """Tokenised, PII-free examples plus how many PII findings were removed (counts only)."""

    dataset: TensorDataset
    redacted_texts: tuple[str, ...]
    pii_removed: int


def redact_texts(texts: Sequence[str], *, use_presidio: bool = True) -> tuple[list[str], int]:
    """PII-free copies of ``texts`` and the number of findings removed."""
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise TypeError("texts must be a list of strings")
    if len(texts) > MAX_TEXTS:
        raise ValueError(f"{len(texts)} texts; the limit is {MAX_TEXTS}")
    out, removed = [], 0
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"text {i} is a {type(text).__name__}, not a str")
        redaction = remove_pii(text, use_presidio=use_presidio)
        out.append(redaction.text)
        removed += len(redaction.findings)
    return out, removed


def tokenize(texts: Sequence[str], tokenizer: Any, seq_len: int) -> TensorDataset:
    """Fixed-length (input_ids, attention_mask) per text: truncated or right-padded to seq_len."""
    if seq_len < 2:
        raise ValueError(f"seq_len must be >= 2, got {seq_len}")
    if tokenizer.pad_token_id is None:
        raise ValueError("the tokenizer needs a pad token")
    enc = tokenizer(
        list(texts),
        max_length=seq_len,
        truncation=True,
        padding="max_length",
        return_tensors="pt",
    )
    return TensorDataset(enc["input_ids"], enc["attention_mask"])


def prepare(
    texts: Sequence[str], tokenizer: Any, seq_len: int, *, use_presidio: bool = True
) -> PreparedData:
    """Redact, drop texts with fewer than 2 tokens (nothing to predict), tokenise."""
    redacted, removed = redact_texts(texts, use_presidio=use_presidio)
    kept = [t for t in redacted if t.strip()]
    if not kept:
        raise ValueError("no training text left after PII removal")
    dataset = tokenize(kept, tokenizer, seq_len)
    useful = dataset.tensors[1].sum(dim=1) >= 2
    if not bool(useful.any()):
        raise ValueError("every text is shorter than 2 tokens: nothing to learn from")
    ids, mask = dataset.tensors[0][useful], dataset.tensors[1][useful]
    texts_kept = tuple(t for t, u in zip(kept, useful.tolist(), strict=True) if u)
    return PreparedData(TensorDataset(ids, mask), texts_kept, removed)


def per_example_loss(model: torch.nn.Module, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross entropy of each example over its real (unpadded) tokens, shape (B,).

    Averaging per example first keeps each example's weight equal, which is what per-sample
    clipping assumes."""
    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
    targets = ids[:, 1:]
    valid = mask[:, 1:].to(logits.dtype)
    token_loss = torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none"
    ).view_as(valid)
    return (token_loss * valid).sum(dim=1) / valid.sum(dim=1).clamp(min=1.0)


@torch.no_grad()
def mean_loss(model: torch.nn.Module, dataset: TensorDataset, batch_size: int = 32) -> float:
    """Mean per-example loss over a data set (held-out evaluation)."""
    was_training = model.training
    model.eval()
    ids, mask = dataset.tensors
    total = 0.0
    for start in range(0, len(ids), batch_size):
        total += float(
            per_example_loss(
                model, ids[start : start + batch_size], mask[start : start + batch_size]
            ).sum()
        )
    model.train(was_training)
    return total / len(ids)
