"""The contribution hash is canonical: stable across calls and key order, and any change to a
value, key, shape or dtype-independent content changes it."""

import torch

from mycel_subnet.federated.hashing import canonical_bytes, contribution_hash


def _update():
    return {"b.lora_B.weight": torch.arange(6.0).view(2, 3), "a.lora_A.weight": torch.ones(3)}


def test_stable_and_order_independent():
    first = contribution_hash(_update())
    again = contribution_hash(dict(reversed(list(_update().items()))))
    assert first == again and len(first) == 64


def test_float64_and_float32_of_same_values_hash_alike():
    double = {k: v.double() for k, v in _update().items()}
    assert contribution_hash(double) == contribution_hash(_update())


def test_changes_when_update_changes():
    base = contribution_hash(_update())
    changed_value = _update()
    changed_value["a.lora_A.weight"][1] += 1e-6
    renamed = _update()
    renamed["c.lora_A.weight"] = renamed.pop("a.lora_A.weight")
    reshaped = _update()
    reshaped["b.lora_B.weight"] = reshaped["b.lora_B.weight"].view(3, 2)
    hashes = {contribution_hash(u) for u in (changed_value, renamed, reshaped)}
    assert base not in hashes and len(hashes) == 3


def test_framing_is_unambiguous():
    # same bytes of values, split differently between two keys, must not collide
    one = {"k": torch.tensor([1.0, 2.0]), "kk": torch.tensor([3.0])}
    two = {"k": torch.tensor([1.0]), "kk": torch.tensor([2.0, 3.0])}
    assert canonical_bytes(one) != canonical_bytes(two)
