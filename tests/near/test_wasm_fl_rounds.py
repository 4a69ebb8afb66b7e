"""FlRounds: the compiled WASM against the CPython logic (tests/near/twin.py): recording rounds,
the adapter hash chain, once-ever update hashes, every refusal, and gas at the largest record
the contract accepts."""

from __future__ import annotations

import pytest

from tests.near.twin import HALF_NEAR_LIMIT, Twin, require

FL = "fl-rounds.test"
OWNER = "owner.test"
COORD = "validator.test"
CID = "bafkreigyw6btedv3p7mw46em3x42rmjdvp7odi4kw2iup3psxdjrvtazii"
MINERS = (
    "5FBzWh3tbAzvXVp1Yx2bmHPLUy5UtWEsWqaqNjnDMBoX1ATy",
    "5CVRiDmAWp2xrTmyU6fNbJGJChW7e1fHtKSfTjUHLGKnDGQH",
)


@pytest.fixture
def fl() -> Twin:
    twin = Twin(require("fl_rounds"), "fl_rounds", FL)
    twin("init", {"owner": OWNER}, FL)
    twin("add_coordinator", {"account": COORD}, OWNER)
    return twin


def _contribution(miner: str, update_hash: str, score: int = 500_000) -> dict:
    return {
        "miner": miner, "update_hash": update_hash, "update_cid": CID,
        "signature": "0" * 128, "score_ppm": score, "epsilon_micro": 4_048_468,
    }  # fmt: skip


def _record(round_no: int, start: str, end: str, contributions: list[dict]) -> dict:
    return {
        "round": round_no, "base_model": "toy-llama-v1",
        "global_in": {"cid": CID, "hash": start * 64}, "global_out": {"cid": CID, "hash": end * 64},
        "loss_before_micro": 4_308_888, "loss_after_micro": 4_095_540,
        "central_epsilon_micro": -1, "contributions": contributions,
    }  # fmt: skip


def test_rounds_chain_and_every_refusal_match_cpython(fl: Twin) -> None:
    first = [_contribution(MINERS[0], "a" * 64), _contribution(MINERS[1], "b" * 64, 1_000_000)]
    assert fl("record_round", _record(1, "1", "2", first), COORD) == {"round": 1, "recorded": 2}
    fl.refused("Unauthorized", "record_round", _record(2, "2", "3", []), "stranger.test")
    fl.refused("Stale round: 1 <= 1", "record_round", _record(1, "2", "3", []), COORD)
    fl.refused(
        "global_in does not continue round 1's global_out",
        "record_round",
        _record(2, "9", "3", []),
        COORD,
    )
    replay = [_contribution(MINERS[0], "a" * 64)]
    fl.refused(
        f"update_hash {'a' * 64} was recorded in round 1 for {MINERS[0]}",
        "record_round",
        _record(2, "2", "3", replay),
        COORD,
    )
    fl.refused(
        f"Duplicate miner in contributions: {MINERS[1]}",
        "record_round",
        _record(2, "2", "3", [_contribution(MINERS[1], "c" * 64)] * 2),
        COORD,
    )
    second = [_contribution(MINERS[1], "c" * 64, 250_000)]
    assert fl("record_round", _record(2, "2", "3", second), COORD)["recorded"] == 1

    got = fl("get_round", {"coordinator": COORD, "round": 1}, "anyone.test", view=True)
    assert [c["update_hash"] for c in got["contributions"]] == ["a" * 64, "b" * 64]
    miner = fl("get_miner", {"miner": MINERS[1]}, "anyone.test", view=True)
    assert miner["rounds"] == 2 and miner["score_ppm_total"] == 1_250_000
    where = fl("get_update", {"update_hash": "c" * 64}, "anyone.test", view=True)
    assert where["round"] == 2 and where["miner"] == MINERS[1]


def test_the_largest_record_stays_under_half_the_gas_limit(fl: Twin) -> None:
    miners = [f"5{i:047d}".replace("0", "A") for i in range(64)]
    contributions = [_contribution(m, f"{i:064x}") for i, m in enumerate(miners)]
    record = _record(1, "1", "2", contributions)
    record["base_model"] = "m" * 200
    assert fl("record_round", record, COORD)["recorded"] == 64
    assert 0 < fl.last.gas.used <= HALF_NEAR_LIMIT, fl.last.gas
