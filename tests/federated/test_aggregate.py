"""Validation, clipping and (DP-)FedAvg on small hand-checkable tensors."""

import math

import pytest
import torch

from mycel_subnet.federated.adapter import l2_norm
from mycel_subnet.federated.aggregate import (
    UpdateRejected,
    add_gaussian_noise,
    central_noise_std,
    clip_update,
    validate_update,
    weighted_mean,
)

REF = {"x.lora_A.weight": torch.zeros(2, 2), "x.lora_B.weight": torch.zeros(3)}


def test_fedavg_is_the_weighted_mean():
    u1 = {"w": torch.tensor([1.0, 2.0]), "v": torch.tensor([0.0])}
    u2 = {"w": torch.tensor([4.0, 8.0]), "v": torch.tensor([3.0])}
    mean = weighted_mean([u1, u2], [1, 2])  # (1*u1 + 2*u2) / 3
    assert torch.allclose(mean["w"], torch.tensor([3.0, 6.0]))
    assert torch.allclose(mean["v"], torch.tensor([2.0]))


def test_fedavg_refuses_bad_weights():
    with pytest.raises(ValueError, match="weights"):
        weighted_mean([{"w": torch.ones(1)}], [0])


def test_clip_scales_to_the_bound_and_keeps_small_updates():
    big = {"a": torch.tensor([30.0, 40.0])}  # norm 50
    clipped, norm = clip_update(big, 5.0)
    assert norm == pytest.approx(50.0)
    assert torch.allclose(clipped["a"], torch.tensor([3.0, 4.0]))
    small = {"a": torch.tensor([0.3, 0.4])}
    same, _ = clip_update(small, 5.0)
    assert torch.equal(same["a"], small["a"])


@pytest.mark.parametrize(
    ("update", "match"),
    [
        ({"x.lora_A.weight": torch.zeros(2, 2)}, "'x.lora_B.weight' is missing"),
        ({**REF, "evil.weight": torch.zeros(1)}, "'evil.weight' is not part of the adapter"),
        ({**REF, "x.lora_B.weight": torch.zeros(4)}, r"'x.lora_B.weight' has shape \(4,\)"),
        ({**REF, "x.lora_A.weight": torch.zeros(2, 2, dtype=torch.int64)}, "expected floating"),
        ({**REF, "x.lora_B.weight": torch.tensor([0.0, math.nan, 0.0])}, "NaN or infinite"),
        ({**REF, "x.lora_B.weight": [0.0, 0.0, 0.0]}, "is a list, not a tensor"),
        ("not a dict", "must be a mapping"),
    ],
)
def test_malformed_update_is_refused_naming_client_and_tensor(update, match):
    with pytest.raises(UpdateRejected, match=match) as info:
        validate_update("node-7", update, REF)
    assert "node-7" in str(info.value)


def test_size_limit():
    with pytest.raises(UpdateRejected, match="exceed 8 bytes"):
        validate_update("node-7", REF, REF, max_bytes=8)


def test_central_noise_std_and_noise():
    assert central_noise_std(1.0, 2.0, [1, 1, 1, 1]) == pytest.approx(0.5)  # z*S/K
    gen = torch.Generator().manual_seed(0)
    noisy = add_gaussian_noise({"a": torch.zeros(20_000)}, 0.5, gen)
    assert noisy["a"].std().item() == pytest.approx(0.5, rel=0.05)
    assert l2_norm(add_gaussian_noise({"a": torch.ones(3)}, 0.0, gen)) == pytest.approx(3**0.5)
