"""The base models a federated round may name, and the LoRA adapter trained on each.

A round names its base model and pins the frozen weights by hash (`base_hash`), so a miner
with other weights (another revision, another seed) refuses instead of training an adapter
that means nothing on the validator's model. Both sides build the model from this registry;
only the LoRA tensors ever travel.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from mycel_subnet.federated.hashing import BASE_DOMAIN, canonical_bytes

TOY_BASE = "toy-llama-v1"
TOY_LORA = {"r": 8, "lora_alpha": 16, "lora_dropout": 0.0}
TOY_TARGETS = ["q_proj", "v_proj", "up_proj", "down_proj"]


@dataclass
class LoadedBase:
    """A base model with a fresh LoRA adapter, its tokenizer and the hash of its frozen part."""

    name: str
    model: Any  # a PEFT model
    tokenizer: Any
    seq_len: int
    base_hash: str


def base_weights_hash(model: torch.nn.Module) -> str:
    """sha256 of the frozen (non-LoRA) parameters in canonical form."""
    frozen = {n: p.detach() for n, p in model.named_parameters() if "lora_" not in n}
    return hashlib.sha256(canonical_bytes(frozen, BASE_DOMAIN)).hexdigest()


def _toy() -> LoadedBase:
    """The tiny random Llama of toy.py with the toy word tokenizer: seconds per round on a CPU."""
    from peft import LoraConfig, get_peft_model

    from mycel_subnet.federated.toy import tiny_llama, toy_tokenizer

    tokenizer = toy_tokenizer()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        base = tiny_llama(len(tokenizer), seed=0)
        torch.manual_seed(0)  # the LoRA A matrices' initialisation
        model = get_peft_model(base, LoraConfig(target_modules=TOY_TARGETS, **TOY_LORA))
    return LoadedBase(TOY_BASE, model, tokenizer, 16, base_weights_hash(model))


BASE_MODELS: dict[str, Callable[[], LoadedBase]] = {TOY_BASE: _toy}


def load_base(name: str) -> LoadedBase:
    """Build the named base model; ValueError naming the known ones otherwise."""
    build = BASE_MODELS.get(name)
    if build is None:
        raise ValueError(f"unknown federated base model {name!r}; known: {sorted(BASE_MODELS)}")
    return build()
