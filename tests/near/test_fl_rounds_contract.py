"""The FlRounds contract (contracts/fl_rounds) on the local ledger, run by the CPython host:
who may record, the hash chain of global adapters, update hashes recorded once ever, per-miner
totals, and a one-line panic naming the field for each malformed argument. Plus the client
method the validator uses (RegistryClient.record_fl_round / get_fl_round)."""

from __future__ import annotations

import asyncio
import copy
import re

import pytest

from mycel_subnet.near.client import LocalRegistryClient, RegistryError
from mycel_subnet.near.host import ContractPanic
from mycel_subnet.near.ledger import DEFAULT_FL_ROUNDS, LocalLedger

OWNER = "owner.test"
COORD = "validator.test"
MINER_A = "5FBzWh3tbAzvXVp1Yx2bmHPLUy5UtWEsWqaqNjnDMBoX1ATy"
MINER_B = "5CVRiDmAWp2xrTmyU6fNbJGJChW7e1fHtKSfTjUHLGKnDGQH"
CID = "bafkreigyw6btedv3p7mw46em3x42rmjdvp7odi4kw2iup3psxdjrvtazii"


def _adapter(tag: str) -> dict:
    return {"cid": CID, "hash": tag * 64}


def _contribution(miner: str, update: str, score: int = 500_000) -> dict:
    return {
        "miner": miner, "update_hash": update * 64, "update_cid": CID,
        "signature": "0" * 128, "score_ppm": score, "epsilon_micro": 4_048_468,
    }  # fmt: skip


def _record(round_no: int, start: str, end: str, contributions: list[dict]) -> dict:
    return {
        "round": round_no, "base_model": "toy-llama-v1",
        "global_in": _adapter(start), "global_out": _adapter(end),
        "loss_before_micro": 4_308_888, "loss_after_micro": 4_095_540,
        "central_epsilon_micro": -1, "contributions": contributions,
    }  # fmt: skip


@pytest.fixture
def fl(tmp_path):
    with LocalLedger(tmp_path / "ledger.db") as ledger:
        ledger.ensure_fl_contract(OWNER)
        ledger.create_account(COORD)
        ledger.create_account("stranger.test")
        ledger.call(OWNER, DEFAULT_FL_ROUNDS, "add_coordinator", {"account": COORD})
        yield ledger


def test_a_round_is_recorded_and_readable(fl) -> None:
    rec = _record(1, "1", "2", [_contribution(MINER_A, "a"), _contribution(MINER_B, "b", 1e6)])
    rec["contributions"][1]["score_ppm"] = 1_000_000
    out = fl.call(COORD, DEFAULT_FL_ROUNDS, "record_round", rec)
    assert out.result == {"round": 1, "recorded": 2}
    got = fl.view(DEFAULT_FL_ROUNDS, "get_round", {"coordinator": COORD, "round": 1})
    assert [c["update_hash"] for c in got["contributions"]] == ["a" * 64, "b" * 64]
    assert got["global_out"] == _adapter("2") and got["coordinator"] == COORD
    assert fl.view(DEFAULT_FL_ROUNDS, "get_last", {"coordinator": COORD}) == {
        "round": 1, "global_hash": "2" * 64,
    }  # fmt: skip
    where = fl.view(DEFAULT_FL_ROUNDS, "get_update", {"update_hash": "a" * 64})
    assert where == {"coordinator": COORD, "round": 1, "miner": MINER_A}
    totals = fl.view(DEFAULT_FL_ROUNDS, "get_miner", {"miner": MINER_B})
    assert totals["rounds"] == 1 and totals["score_ppm_total"] == 1_000_000
    assert fl.view(DEFAULT_FL_ROUNDS, "get_round", {"coordinator": COORD, "round": 2}) is None


def test_only_the_owner_and_coordinators_record(fl) -> None:
    with pytest.raises(ContractPanic, match="^Unauthorized$"):
        fl.call("stranger.test", DEFAULT_FL_ROUNDS, "record_round", _record(1, "1", "2", []))
    with pytest.raises(ContractPanic, match="Only the owner"):
        fl.call(COORD, DEFAULT_FL_ROUNDS, "add_coordinator", {"account": "stranger.test"})
    fl.call(OWNER, DEFAULT_FL_ROUNDS, "remove_coordinator", {"account": COORD})
    with pytest.raises(ContractPanic, match="^Unauthorized$"):
        fl.call(COORD, DEFAULT_FL_ROUNDS, "record_round", _record(1, "1", "2", []))


def test_rounds_increase_and_chain_their_global_adapters(fl) -> None:
    fl.call(COORD, DEFAULT_FL_ROUNDS, "record_round", _record(1, "1", "2", []))
    with pytest.raises(ContractPanic, match="Stale round: 1 <= 1"):
        fl.call(COORD, DEFAULT_FL_ROUNDS, "record_round", _record(1, "2", "3", []))
    with pytest.raises(ContractPanic, match="does not continue round 1"):
        fl.call(COORD, DEFAULT_FL_ROUNDS, "record_round", _record(2, "9", "3", []))
    fl.call(COORD, DEFAULT_FL_ROUNDS, "record_round", _record(5, "2", "3", []))  # gaps are fine
    # another coordinator keeps its own chain
    fl.call(OWNER, DEFAULT_FL_ROUNDS, "record_round", _record(1, "7", "8", []))


def test_an_update_hash_is_recorded_once_ever(fl) -> None:
    """A byte-identical resubmission (another miner, a later round) is refused, naming the
    round and miner that committed it first: on chain, the earliest commit keeps it."""
    fl.call(COORD, DEFAULT_FL_ROUNDS, "record_round",
            _record(1, "1", "2", [_contribution(MINER_A, "a")]))  # fmt: skip
    again = _record(2, "2", "3", [_contribution(MINER_B, "a")])
    with pytest.raises(ContractPanic, match=f"recorded in round 1 for {MINER_A}"):
        fl.call(COORD, DEFAULT_FL_ROUNDS, "record_round", again)
    twice = _record(2, "2", "3", [_contribution(MINER_A, "b"), _contribution(MINER_B, "b")])
    with pytest.raises(ContractPanic, match="Duplicate update_hash"):
        fl.call(COORD, DEFAULT_FL_ROUNDS, "record_round", twice)
    same_miner = _record(2, "2", "3", [_contribution(MINER_A, "b"), _contribution(MINER_A, "c")])
    with pytest.raises(ContractPanic, match="Duplicate miner"):
        fl.call(COORD, DEFAULT_FL_ROUNDS, "record_round", same_miner)
    # a refused call changed nothing: round 2 is still free
    fl.call(COORD, DEFAULT_FL_ROUNDS, "record_round",
            _record(2, "2", "3", [_contribution(MINER_B, "b")]))  # fmt: skip


BAD = [
    ("round", 0, "Invalid round"),
    ("round", True, "Invalid round"),
    ("base_model", "", "Invalid base_model"),
    ("base_model", "toy llama", "Invalid base_model"),
    ("global_in", {"cid": CID}, "Invalid global_in"),
    ("global_out", {"cid": "not-a-cid", "hash": "2" * 64}, "Invalid global_out.cid"),
    ("global_out", {"cid": CID, "hash": "G" * 64}, "Invalid global_out.hash"),
    ("loss_before_micro", -1, "Invalid loss_before_micro"),
    ("loss_after_micro", 1.5, "Invalid loss_after_micro"),
    ("central_epsilon_micro", -2, "Invalid central_epsilon_micro"),
    ("contributions", {}, "Invalid contributions"),
    ("contributions", [_contribution(MINER_A, "a")] * 65, "Invalid contributions"),
    ("contributions.miner", "alice.near", "contributions\\[0\\].miner"),
    ("contributions.update_hash", "a" * 63, "contributions\\[0\\].update_hash"),
    ("contributions.signature", "0" * 127, "contributions\\[0\\].signature"),
    ("contributions.score_ppm", 1_000_001, "contributions\\[0\\].score_ppm"),
    ("contributions.epsilon_micro", "5", "contributions\\[0\\].epsilon_micro"),
    ("contributions.extra", 1, "contributions\\[0\\]: expected keys"),
]


@pytest.mark.parametrize(
    ("field", "value", "needle"), BAD, ids=[f"{b[0]}={b[1]!r}"[:40] for b in BAD]
)
def test_malformed_arguments_panic_in_one_line_naming_the_field(fl, field, value, needle) -> None:
    rec = _record(1, "1", "2", [_contribution(MINER_A, "a")])
    if field.startswith("contributions."):
        rec = copy.deepcopy(rec)
        rec["contributions"][0][field.split(".", 1)[1]] = value
    else:
        rec[field] = value
    with pytest.raises(ContractPanic) as info:
        fl.call(COORD, DEFAULT_FL_ROUNDS, "record_round", rec)
    assert "\n" not in info.value.message
    assert re.search(needle, info.value.message), info.value.message
    assert fl.view(DEFAULT_FL_ROUNDS, "get_last", {"coordinator": COORD}) is None


def test_views_refuse_writes_and_bad_keys(fl) -> None:
    with pytest.raises(ContractPanic):  # a view's predecessor is the contract: not a coordinator
        fl.view(DEFAULT_FL_ROUNDS, "record_round", _record(1, "1", "2", []))
    with pytest.raises(ContractPanic, match="Invalid update_hash"):
        fl.view(DEFAULT_FL_ROUNDS, "get_update", {"update_hash": "xyz"})
    with pytest.raises(ContractPanic, match="Unexpected argument: x"):
        fl.view(DEFAULT_FL_ROUNDS, "get_last", {"coordinator": COORD, "x": 1})


def test_the_client_methods_record_and_read_a_round(fl) -> None:
    client = LocalRegistryClient(fl, COORD)

    async def go():
        out = await client.record_fl_round(_record(1, "1", "2", [_contribution(MINER_A, "a")]))
        got = await client.get_fl_round(COORD, 1)
        with pytest.raises(RegistryError, match="Stale round"):
            await client.record_fl_round(_record(1, "2", "3", []))
        return out, got

    out, got = asyncio.run(go())
    assert out == {"round": 1, "recorded": 1}
    assert got["contributions"][0]["miner"] == MINER_A


def test_deploying_twice_is_a_no_op(fl) -> None:
    fl.call(COORD, DEFAULT_FL_ROUNDS, "record_round", _record(1, "1", "2", []))
    assert fl.ensure_fl_contract(OWNER) == DEFAULT_FL_ROUNDS
    assert fl.view(DEFAULT_FL_ROUNDS, "get_last", {"coordinator": COORD})["round"] == 1
