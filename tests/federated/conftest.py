"""Shared fixtures: one torch thread, the toy word tokenizer, and a fresh tiny random Llama
with a LoRA adapter per test (a real PEFT model; only its size is toy)."""

from __future__ import annotations

import warnings

import pytest
import torch
from peft import LoraConfig, get_peft_model

from mycel_subnet.federated.toy import TOY_WORDS, tiny_llama, toy_tokenizer

torch.set_num_threads(1)
PATTERN = list(TOY_WORDS[10:18])
LORA = {"r": 8, "lora_alpha": 16, "lora_dropout": 0.0}
TARGETS = ["q_proj", "v_proj", "up_proj", "down_proj"]


@pytest.fixture(scope="session")
def tokenizer():
    return toy_tokenizer()


@pytest.fixture
def make_model(tokenizer):
    def make(seed: int = 0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return get_peft_model(
                tiny_llama(len(tokenizer), seed=seed), LoraConfig(target_modules=TARGETS, **LORA)
            )

    return make


@pytest.fixture(scope="session", autouse=True)
def _spacy_dir(tmp_path_factory):
    """presidio's blank spaCy pipeline goes to a per-session temp dir (no writes to ~)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("MYCEL_SPACY_DIR", str(tmp_path_factory.mktemp("spacy") / "blank-en"))
    yield
    mp.undo()
