"""A tiny random Llama model and a LoRA adapter trained on it for a few CPU steps."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

BASE_NAME = "mycel/tiny-llama-test"


def make_base(seed: int = 0, hidden: int = 16):
    """A fresh tiny LlamaForCausalLM with weights fixed by `seed`."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=64,
        hidden_size=hidden,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=32,
    )
    return LlamaForCausalLM(config).eval()


@dataclass
class Trained:
    folder: Path
    model: object  # the trained PeftModel
    inputs: object  # token ids used to compare outputs


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Trained:
    import torch
    from peft import LoraConfig, get_peft_model

    torch.set_num_threads(1)
    model = get_peft_model(
        make_base(),
        LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], lora_dropout=0.0),
    )
    gen = torch.Generator().manual_seed(1)
    data = torch.randint(0, 64, (4, 12), generator=gen)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model.train()
    for _ in range(8):
        loss = model(input_ids=data, labels=data).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    model.eval()
    folder = tmp_path_factory.mktemp("adapter")
    model.save_pretrained(folder)
    return Trained(folder=folder, model=model, inputs=data[:2])
