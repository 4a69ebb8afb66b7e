"""LoRA adapter state as plain tensors: read it from a PEFT model, load it back, and do the
arithmetic a round needs (delta, apply, norm). Keys are PEFT's adapter-name-free state-dict
keys, so every node names the same tensor the same way."""

from __future__ import annotations

import math

import torch

AdapterState = dict[str, torch.Tensor]


def adapter_state(model: torch.nn.Module) -> AdapterState:
    """A detached float32 CPU copy of the model's LoRA tensors."""
    from peft import get_peft_model_state_dict

    state = get_peft_model_state_dict(model)
    return {k: v.detach().to("cpu", torch.float32).clone() for k, v in sorted(state.items())}


def load_adapter_state(model: torch.nn.Module, state: AdapterState) -> None:
    """Overwrite the model's LoRA tensors with ``state``; every key must match."""
    from peft import set_peft_model_state_dict

    current = adapter_state(model)
    missing = sorted(set(current) - set(state))
    extra = sorted(set(state) - set(current))
    if missing or extra:
        raise ValueError(f"adapter keys differ: missing {missing[:3]}, unexpected {extra[:3]}")
    result = set_peft_model_state_dict(model, state)
    unexpected = [k for k in getattr(result, "unexpected_keys", []) if "lora_" in k]
    if unexpected:
        raise ValueError(f"PEFT did not load adapter tensors {unexpected[:3]}")


def subtract(new: AdapterState, base: AdapterState) -> AdapterState:
    """new - base, key by key (the update a client sends)."""
    return {k: (new[k] - base[k]).clone() for k in sorted(base)}


def add(base: AdapterState, update: AdapterState, scale: float = 1.0) -> AdapterState:
    """base + scale * update, key by key."""
    return {k: base[k] + scale * update[k] for k in sorted(base)}


def l2_norm(update: AdapterState) -> float:
    """Global L2 norm over all tensors of an update (what clipping bounds)."""
    total = sum(float(t.double().pow(2).sum()) for t in update.values())
    return math.sqrt(total)
