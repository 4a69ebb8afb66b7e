"""The miner's side of a round with the real toy model, Opacus, a real content store and real
sr25519 hotkeys: it fetches the global adapter by CID, trains, uploads the update, signs the
claim and reports an accountant the validator can recompute; a retry is answered without
spending again, an older round is refused, epsilon composes across restarts and stops at the
budget, and every refusal is one line."""

from __future__ import annotations

import hashlib
import json

import pytest
from opacus.accountants import RDPAccountant

from mycel_subnet.engines.interface import EngineError
from mycel_subnet.federated.claims import UpdateClaim, verify_claim
from mycel_subnet.federated.miner_side import STATE_FILE, FederatedMinerSide, MinerFlConfig
from mycel_subnet.federated.models import TOY_BASE
from mycel_subnet.federated.shards import ShardError, read_shard
from mycel_subnet.federated.wire import decode_state
from mycel_subnet.storage import LocalContentStore
from mycel_subnet.validator.federated import check_accountant
from tests.federated.fl_helpers import request_for, shard
from tests.miner.harness import make_hotkey

VALIDATOR = "5F3sa2TJAWMqDhXG6jhV4N8ko9SxwGy8TpaNS1repo5EYjQX"


@pytest.fixture(scope="module")
def hotkey(tmp_path_factory):
    return make_hotkey(tmp_path_factory.mktemp("w"), "miner").hotkey


@pytest.fixture
def store(tmp_path):
    return LocalContentStore(tmp_path / "ipfs")


def _side(tmp_path, hotkey, store, budget=10.0, **kw) -> FederatedMinerSide:
    config = MinerFlConfig(shard(tmp_path, "shard", seed=1), tmp_path / "fl", budget, TOY_BASE,
                           use_presidio=False, **kw)  # fmt: skip
    return FederatedMinerSide(hotkey, store, config)


def test_a_round_uploads_a_signed_update_with_a_consistent_accountant(tmp_path, hotkey, store):
    side = _side(tmp_path, hotkey, store)
    request = request_for(side.base, store, side.reference)
    result = side(request, VALIDATOR)
    data = store.get(result.update_cid)
    assert hashlib.sha256(data).hexdigest() == result.update_sha256
    assert len(data) == result.update_size == request.max_update_bytes
    delta = decode_state(data, side.reference, who="test")
    assert any(float(t.abs().sum()) > 0 for t in delta.values())
    claim = UpdateClaim(VALIDATOR, hotkey.ss58_address, 1, request.base_hash, request.global_hash,
                        result.update_sha256, result.update_cid, result.update_size)  # fmt: skip
    assert verify_claim(claim, result.signature)
    acc = result.accountant
    assert check_accountant(acc, request.dp) is None
    assert acc.sample_rate == 16 / 64 and result.num_examples == 64
    opacus = RDPAccountant()
    opacus.history = [(1.0, 0.25, 10)]
    assert acc.epsilon == pytest.approx(opacus.get_epsilon(delta=1e-5), rel=1e-12)
    outbox = json.loads((tmp_path / "fl" / "outbox.json").read_text())
    assert outbox["update_cid"] == result.update_cid and outbox["round"] == 1


def test_a_retry_is_answered_again_and_an_older_round_is_refused(tmp_path, hotkey, store):
    side = _side(tmp_path, hotkey, store)
    request = request_for(side.base, store, side.reference, round_no=4)
    first = side(request, VALIDATOR)
    spent = side.epsilon
    assert side(request, VALIDATOR) == first and side.epsilon == spent
    older = request.model_copy(update={"round": 3})
    with pytest.raises(EngineError, match="round 3 is not after round 4"):
        side(older, VALIDATOR)
    assert side.epsilon == spent
    # another validator's round 1 is its own sequence, and spends from the same ledger
    side(
        request.model_copy(update={"round": 1}), "5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw"
    )
    assert side.epsilon > spent


def test_epsilon_composes_across_a_restart_and_stops_at_the_budget(tmp_path, hotkey, store):
    first = _side(tmp_path, hotkey, store, budget=8.0)
    first(request_for(first.base, store, first.reference, round_no=1), VALIDATOR)
    spent = first.epsilon
    assert 0 < spent < 8.0
    again = _side(tmp_path, hotkey, store, budget=8.0)  # a new process on the same state dir
    assert again.epsilon == pytest.approx(spent, rel=1e-12)
    with pytest.raises(EngineError) as info:
        again(request_for(again.base, store, again.reference, round_no=2), VALIDATOR)
    assert "privacy budget" in str(info.value) and "budget 8" in str(info.value)
    assert "\n" not in str(info.value)
    assert again.epsilon == pytest.approx(spent, rel=1e-12)  # the refused round spent nothing


def test_a_lost_ledger_refuses_to_start_rather_than_reset_epsilon(tmp_path, hotkey, store):
    side = _side(tmp_path, hotkey, store)
    side(request_for(side.base, store, side.reference), VALIDATOR)
    (tmp_path / "fl" / STATE_FILE).write_text("{torn")
    with pytest.raises(ValueError, match="unreadable"):
        _side(tmp_path, hotkey, store)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"base_model": "llama-70b"}, "trains toy-llama-v1, not llama-70b"),
        ({"base_hash": "0" * 64}, "base weights differ"),
        ({"global_hash": "0" * 64}, "do not match global_hash"),
        ({"global_size": 100}, "global_size 100"),
        ({"max_update_bytes": 100}, "over the round's 100"),
        (
            {"global_cid": "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"},
            "cannot fetch the global adapter",
        ),
    ],
    ids=["model", "base", "hash", "size", "cap", "cid"],
)
def test_a_round_that_cannot_work_is_refused_in_one_line(tmp_path, hotkey, store, change, needle):
    side = _side(tmp_path, hotkey, store)
    request = request_for(side.base, store, side.reference).model_copy(update=change)
    with pytest.raises(EngineError) as info:
        side(request, VALIDATOR)
    assert needle in str(info.value) and "\n" not in str(info.value)
    assert side.epsilon == 0.0


def test_shard_files_are_read_with_bounds_and_clear_errors(tmp_path):
    good = tmp_path / "a.jsonl"
    good.write_text('{"text": "open the file"}\n\n{"text": " send the report "}\n')
    assert read_shard(good) == ["open the file", "send the report"]
    bad = tmp_path / "b.jsonl"
    bad.write_text('{"text": "ok"}\n{"txt": 1}\n')
    with pytest.raises(ShardError, match=r"b.jsonl:2: expected an object"):
        read_shard(bad)
    empty = tmp_path / "c.txt"
    empty.write_text("\n  \n")
    with pytest.raises(ShardError, match="holds no text"):
        read_shard(empty)
    with pytest.raises(ShardError, match="is not a file"):
        read_shard(tmp_path / "missing.txt")
    binary = tmp_path / "d.txt"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ShardError, match="not UTF-8"):
        read_shard(binary)
