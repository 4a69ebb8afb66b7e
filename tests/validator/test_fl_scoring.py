"""Copy detection and contribution values: a scaled copy is found whatever the scale, the
earliest commit keeps the credit, a replay of anything already public is a copy, and honest
updates with their own DP noise are never mistaken for copies. The privacy report check
recomputes epsilon with the RDP accountant and refuses a report that contradicts itself."""

from __future__ import annotations

import pytest
import torch

from mycel_subnet.validator.federated import check_accountant
from mycel_subnet.validator.fl_scoring import Candidate, contribution_values, find_copies
from protocol import FederatedAccountant, FederatedDp, FederatedSpend

SHAPES = {"a.lora_A.weight": (8, 32), "a.lora_B.weight": (32, 8)}


def _noise(seed: int, scale: float = 1.0) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {k: scale * torch.randn(s, generator=gen) for k, s in SHAPES.items()}


def _honest(seed: int) -> dict[str, torch.Tensor]:
    """A shared signal plus this miner's own DP noise, as honest DP updates look."""
    signal = _noise(0, 0.3)
    noise = _noise(seed)
    return {k: signal[k] + noise[k] for k in SHAPES}


def test_honest_updates_with_their_own_noise_are_not_copies() -> None:
    cands = [Candidate(uid, float(uid), _honest(100 + uid)) for uid in range(8)]
    assert find_copies(cands) == {}


@pytest.mark.parametrize("scale", [1.0, 1.5, 0.01, 40.0])
def test_a_scaled_copy_is_found_and_the_earliest_keeps_it(scale: float) -> None:
    original = _honest(1)
    copy = {k: v * scale for k, v in original.items()}
    cands = [Candidate(7, 0.9, copy), Candidate(3, 0.5, original), Candidate(5, 0.7, _honest(2))]
    copies = find_copies(cands)
    assert set(copies) == {7} and copies[7].startswith("copy of uid 3 (cosine 1.000")


def test_when_the_copy_arrives_first_the_order_decides_and_ties_go_by_uid() -> None:
    original = _honest(1)
    assert set(find_copies([Candidate(3, 0.9, original), Candidate(7, 0.5, original)])) == {3}
    assert set(find_copies([Candidate(3, 0.5, original), Candidate(7, 0.5, original)])) == {7}


def test_a_copy_of_a_copy_names_the_original() -> None:
    original = _honest(1)
    cands = [
        Candidate(1, 0.1, original),
        Candidate(2, 0.2, {k: 2 * v for k, v in original.items()}),
        Candidate(3, 0.3, {k: 3 * v for k, v in original.items()}),
    ]
    assert find_copies(cands) == {
        2: "copy of uid 1 (cosine 1.000)", 3: "copy of uid 1 (cosine 1.000)",
    }  # fmt: skip


def test_a_replay_of_a_public_update_or_of_the_global_step_is_a_copy() -> None:
    last_round = _honest(1)
    step = _honest(9)
    public = {"uid 4's update of round 1": last_round, "the global adapter's last step": step}
    cands = [
        Candidate(4, 0.1, {k: 1.2 * v for k, v in last_round.items()}),  # its own old update
        Candidate(5, 0.2, step),
        Candidate(6, 0.3, _honest(3)),
    ]
    copies = find_copies(cands, public)
    assert copies[4].startswith("copy of uid 4's update of round 1")
    assert copies[5].startswith("copy of the global adapter's last step")
    assert 6 not in copies


def test_a_copy_with_noise_added_until_undetected_has_lost_most_of_its_signal() -> None:
    """To get under the threshold a copier must add noise about as large as the update: what
    is left of the copied direction is then what the improvement test measures (and pays)."""
    original = _honest(1)
    hidden = {k: v + 0.6 * _noise(77)[k] * float(v.norm()) / float(_noise(77)[k].norm())
              for k, v in original.items()}  # fmt: skip
    assert find_copies([Candidate(1, 0.1, original), Candidate(2, 0.2, hidden)]) == {}


def test_zero_updates_and_bad_thresholds() -> None:
    zero = {k: torch.zeros(s) for k, s in SHAPES.items()}
    assert find_copies([Candidate(1, 0.1, zero), Candidate(2, 0.2, zero)]) == {}
    with pytest.raises(ValueError, match="copy threshold"):
        find_copies([], threshold=0.0)


def test_values_are_relative_to_the_round_best_and_never_negative() -> None:
    assert contribution_values({1: 0.2, 2: 0.1, 3: -0.05, 4: 0.0}) == {
        1: 1.0, 2: 0.5, 3: 0.0, 4: 0.0,
    }  # fmt: skip
    assert contribution_values({1: -0.1, 2: 0.0}) == {1: 0.0, 2: 0.0}
    assert contribution_values({}) == {}


DP = FederatedDp(clip_norm=1.0, noise_multiplier=1.0, batch_size=64, local_steps=10, lr=1.0,
                 delta=1e-5, epsilon_budget=10.0)  # fmt: skip


def _acc(**change) -> FederatedAccountant:
    from mycel_subnet.federated.accounting import RdpLedger

    history = change.pop("history", [(1.0, 0.125, 20)])
    base = {
        "delta": 1e-5, "noise_multiplier": 1.0, "sample_rate": 0.125, "steps": 10,
        "history": [FederatedSpend(noise_multiplier=n, sample_rate=q, steps=s)
                    for n, q, s in history],
        "epsilon": RdpLedger(delta=1e-5, history=history).epsilon(),
    }  # fmt: skip
    return FederatedAccountant(**{**base, **change})


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"epsilon": 1.0}, "reports epsilon 1 but its history gives"),
        ({"noise_multiplier": 0.5, "history": [(0.5, 0.125, 20)]}, "below the round's 1"),
        ({"steps": 5}, "reports 5 steps"),
        ({"delta": 1e-6}, "delta 1e-06"),
        ({"sample_rate": 0.5}, "missing from the accountant history"),
        ({"history": [(1.0, 0.125, 200)]}, "over the round's budget 10"),
    ],
    ids=["epsilon", "noise", "steps", "delta", "rate", "budget"],
)
def test_a_privacy_report_that_does_not_hold_together_is_refused(change, needle) -> None:
    assert check_accountant(_acc(), DP) is None
    why = check_accountant(_acc(**change), DP)
    assert why is not None and needle in why
