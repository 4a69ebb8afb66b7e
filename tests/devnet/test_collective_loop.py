"""The devnet's collective loop, piece by piece, on real parts: the validator's own pattern
checks (real sandbox), seeding a real local ledger through the instances' real extract and
publish (real NER, real MiniLM, real content store, real storage deposits), a real hotkey
binding signature, and the registry report read back from real contract state after the
validator's account attests, quarantines and a buyer pays. No fakes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import bittensor as bt
import pytest
from rich.console import Console

from mycel_subnet.chain.binding import binding_signature_ok
from mycel_subnet.devnet import validator_state
from mycel_subnet.devnet.chain_setup import DEVNET_VALIDATOR_NEAR, Participant, prepare_near
from mycel_subnet.devnet.logs import CLEAN_BUILD, SPLIT_BILL, poisoned_pattern
from mycel_subnet.devnet.near_world import LEDGER_BELOW_HOME, DevnetWorld, account
from mycel_subnet.devnet.plan import DevnetPlan
from mycel_subnet.devnet.registry_report import collect, registry_lines, render_registry
from mycel_subnet.devnet.registry_view import listed_ids, read_registry
from mycel_subnet.devnet.report import DevnetReport, EpochSnapshot, MinerRow, render_table
from mycel_subnet.devnet.synthetic import BROKEN_TRIGGER, synthetic_patterns
from mycel_subnet.near.client import DEFAULT_LEDGER_PATH
from mycel_subnet.near.ledger import DEFAULT_REGISTRY, DEFAULT_REPUTATION, LocalLedger
from mycel_subnet.validator.pattern_checks import check_pattern
from mycel_subnet.validator.steplog import StepLog

SEARCH_MIN_PATTERNS_FLOOR = 20  # the least validator.search_min_patterns allows


def test_seeded_patterns_are_what_they_claim_by_the_validators_own_checks():
    """Enough distinct safe patterns for search tasks; the code ones pass the examples they
    declare in the sandbox, except the broken one; the poison fails static safety."""
    synthetic = synthetic_patterns(account("seeder"))
    assert len({p.id for p in synthetic}) == len(synthetic) >= SEARCH_MIN_PATTERNS_FLOOR
    for pattern in synthetic:
        own = check_pattern(pattern)
        assert own.safe, (pattern.trigger, own.reason)
        if pattern.solution.kind != "code_template":
            continue
        assert own.examples, f"{pattern.trigger}: declares no example"
        expected = 0.0 if pattern.trigger == BROKEN_TRIGGER else 1.0
        assert own.code_factor == expected, (pattern.trigger, own.detail)
    poison = check_pattern(poisoned_pattern(account("mallory")))
    assert not poison.safe and "os.system" in poison.reason


def test_the_neurons_home_puts_the_ledger_where_they_look_for_it(tmp_path):
    """The neurons read the local ledger at ~/.mycel/near/ledger.db; the devnet's HOME must
    make that the devnet's own file, and a plan must leave the gateway a port of its own."""
    assert Path("~") / LEDGER_BELOW_HOME == DEFAULT_LEDGER_PATH
    plan = DevnetPlan(miners=3, base_port=20000, engines=("baseline", "random", "constant"))
    assert plan.gateway_port == 20003 and plan.gateway_port not in plan.miner_ports
    assert [plan.keeps_index(e) for e in plan.miner_engines] == [True, False, False]
    assert not DevnetPlan(collective=False).keeps_index("deep")
    with pytest.raises(ValueError, match="the miners and the gateway"):
        DevnetPlan(miners=2, base_port=65533)


def test_no_collective_flag_turns_the_loop_off():
    import argparse

    from mycel_subnet.cli import cmd_devnet

    parser = argparse.ArgumentParser()
    cmd_devnet.add_parser(parser.add_subparsers())
    assert cmd_devnet.plan_from(parser.parse_args(["devnet"])).collective
    assert not cmd_devnet.plan_from(parser.parse_args(["devnet", "--no-collective"])).collective


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A seeded devnet registry: the real seed_registry on a fresh local ledger."""
    import torch

    from mycel_subnet.devnet.seed import seed_registry

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("seeded")
    wallets = root / "wallets"
    wallet = bt.Wallet("miner0", "default", str(wallets))
    wallet.create_new_hotkey(use_password=False, suppress=True, overwrite=True)
    miner = Participant("miner0", wallet.hotkey.ss58_address, wallet.hotkey.ss58_address, 2)
    world = DevnetWorld(
        home=root / "home", ledger=root / "home" / LEDGER_BELOW_HOME, ipfs=root / "ipfs",
        instances=root / "instances", logs=root / "logs", validator_state=root / "validator",
        validator_account=DEVNET_VALIDATOR_NEAR, gateway_port=1, bound_miner=miner,
        bound_account=account("miner0"), api_key="unused",
    )  # fmt: skip
    prepare_near(world.ledger)
    lines: list[str] = []
    seed = asyncio.run(seed_registry(world, wallets, lines.append))
    return world, seed, lines


@pytest.mark.slow
def test_seeding_publishes_in_verification_order_and_pays_every_deposit(seeded):
    world, seed, lines = seeded
    synthetic = len(synthetic_patterns(account("seeder")))
    snap = read_registry(world.ledger)
    assert seed.published == len(snap.entries) == synthetic + 3 + 1
    by_log = {e.log: e for e in seed.extractions}
    # the synthetic ones first (they absorb the steps before any miner is calibrated), then
    # what the instances extracted, the poison last
    assert {snap.entries[i].creator for i in range(1, synthetic + 1)} == {account("seeder")}
    extracted = sorted(e.near_id for e in seed.extractions if e.near_id)
    assert extracted == list(range(synthetic + 1, synthetic + 4))
    assert seed.poisoned == synthetic + 4 and snap.entries[seed.poisoned].creator == account(
        "mallory"
    )
    assert snap.entries[seed.broken].pattern_hash == next(
        p.id for p in synthetic_patterns(account("seeder")) if p.trigger == BROKEN_TRIGGER
    )
    assert "unsafe" in by_log[CLEAN_BUILD.name].refused and by_log[CLEAN_BUILD.name].near_id is None
    assert seed.target is by_log[SPLIT_BILL.name] and seed.target.kind == "code_template"
    assert {"EMAIL", "PERSON"} <= set(seed.target.removed)
    with LocalLedger(world.ledger) as ledger:
        deposit = int(ledger.view(DEFAULT_REGISTRY, "get_config", {})["storage_deposit"])
    assert deposit > 0
    assert all(e.deposit == deposit and e.status == "unverified" for e in snap.entries.values())
    # nothing private reached the shared store
    from mycel_subnet.storage import LocalContentStore

    metadata = LocalContentStore(world.ipfs).get(snap.entries[seed.target.near_id].metadata_cid)
    assert b"Marta" not in metadata and b"brightlane" not in metadata
    assert any("mallory" in line for line in lines), lines


@pytest.mark.slow
def test_the_binding_waits_for_a_validator_and_its_signature_verifies(seeded):
    world, seed, _ = seeded
    hotkey = world.bound_miner.hotkey
    assert seed.binding == {"uid": 2, "hotkey": hotkey, "account": account("miner0"),
                            "requested_by": account("miner0"), "confirmed": False}  # fmt: skip
    with LocalLedger(world.ledger) as ledger:
        binding = ledger.view(DEFAULT_REPUTATION, "get_binding", {"hotkey": hotkey})
    (request,) = binding["requests"]
    assert binding["account"] is None and request["account"] == account("miner0")
    assert binding_signature_ok(account("miner0"), hotkey, request["signature"])
    assert not binding_signature_ok(account("mallory"), hotkey, request["signature"])


@pytest.mark.slow
def test_the_registry_report_counts_what_the_contracts_hold(seeded, tmp_path):
    """The validator's account attests one pattern and quarantines the poison, a buyer pays
    for one use: the report reads exactly that back, and find_patterns hides the poison."""
    world, seed, _ = seeded
    with LocalLedger(world.ledger) as ledger:
        target = seed.target.near_id
        for pattern_id, quality, safe in ((target, 700_000, True), (seed.poisoned, 0, False)):
            args = {"pattern_id": pattern_id, "quality_ppm": quality, "safe": safe,
                    "reason": "" if safe else "unsafe: os.system"}  # fmt: skip
            ledger.call(DEVNET_VALIDATOR_NEAR, DEFAULT_REGISTRY, "attest_pattern", args)
        price = int(ledger.view(DEFAULT_REGISTRY, "get_pattern", {"pattern_id": target})[
            "price_per_use"])  # fmt: skip
        ledger.create_account("buyer.devnet.test", 10 * price)
        ledger.call("buyer.devnet.test", DEFAULT_REGISTRY, "use_pattern",
                    {"pattern_id": target}, price)  # fmt: skip
        fee_bps = int(ledger.view(DEFAULT_REGISTRY, "get_config", {})["fee_bps"])
    state = tmp_path / "validator"
    StepLog(state).append({"step": 1, "notes": ["search: 35 patterns below registry id 36"]})
    StepLog(state).append({"step": 2, "notes": ["search: none this step: the index holds 3"]})
    activity = collect(world.ledger, state, seed, None)
    fee = price * fee_bps // 10_000
    assert (activity.verified, activity.quarantined) == (1, 1)
    assert activity.unverified == activity.published - 2
    assert (activity.bought, activity.paid_yocto, activity.fees_yocto) == (1, price, fee)
    assert activity.earned_yocto == price - fee > 0
    assert activity.attested_quality == {target: 0.7, seed.poisoned: 0.0}
    assert "os.system" in activity.quarantine_reasons[seed.poisoned]
    assert (activity.search_steps, activity.steps) == (1, 2)
    assert seed.poisoned not in listed_ids(world.ledger, "coding")
    assert target in listed_ids(world.ledger, "coding")
    assert json.loads(json.dumps(activity.to_json()))["paid_yocto"] == str(price)  # exact u128
    console = Console(width=200, record=True)
    console.print(render_registry(activity))
    text = console.export_text()
    assert "storage deposits NEAR" in text and "1/2" in text
    lines = "\n".join(registry_lines(activity))
    assert f"mallory's unsafe #{seed.poisoned}: quarantined: unsafe: os.system" in lines
    assert "refused (" in lines and CLEAN_BUILD.name in lines


@pytest.mark.slow
def test_a_verification_that_never_comes_is_one_clear_problem_line(seeded, monkeypatch):
    """The organic phase waits for verdicts only so long, then says which pattern is still
    in which state and where to look (here: an id nobody registered, so it can never be)."""
    from mycel_subnet.devnet import organic
    from mycel_subnet.devnet.seed import SeedReport

    world, seed, _ = seeded
    missing = seed.poisoned + 100
    monkeypatch.setattr(organic, "VERIFY_WAIT_S", 1.0)
    monkeypatch.setattr(organic, "POLL_S", 0.1)
    report = organic.OrganicReport()
    asyncio.run(organic._wait_for_verdicts(world, SeedReport(poisoned=missing), report,
                                           lambda: None, lambda _l: None))  # fmt: skip
    assert report.problems == [
        f"pattern {missing} is still not registered after 1 s (expected quarantined); see "
        "validator/verifications.jsonl"
    ]
    assert report.verification_wait_s >= 1.0


def test_validator_state_reads_verdicts_and_search_steps_and_skips_torn_lines(tmp_path):
    (tmp_path / "verifications.jsonl").write_text(
        json.dumps({"verdicts": [{"outcome": "attested"}, {"outcome": "pending"}]}) + "\n"
        + json.dumps({"verdicts": [{"outcome": "attested"}, {"outcome": 7}, "x"]}) + "\n"
        + '{"verdicts": [{"outcome": "quarant'  # the line being written right now
    )  # fmt: skip
    assert validator_state.verification_outcomes(tmp_path) == {"attested": 2, "pending": 1}
    assert validator_state.verification_outcomes(tmp_path / "none") == {}
    log = StepLog(tmp_path)
    log.append({"step": 1, "notes": ["search: none this step: the registry index holds 3"]})
    log.append({"step": 2, "notes": ["verification: ...", "search: 30 patterns below id 31"]})
    log.append({"step": 3, "notes": None})
    found = validator_state.search_steps(tmp_path)
    assert (found.ran, found.steps) == (1, 3)
    assert found.last_skip.endswith("holds 3")


def test_the_table_has_a_search_column_and_says_dash_for_a_task_never_asked():
    rows = [
        MinerRow(uid=1, hotkey="a", engine="deep", incentive=0.9,
                 accuracy={"evaluate_pattern": 0.9, "search_patterns": 0.97}),
        MinerRow(uid=2, hotkey="b", engine="random", incentive=0.1,
                 accuracy={"evaluate_pattern": 0.1}),
    ]  # fmt: skip
    report = DevnetReport(chain_path="c", netuid=1, epochs=[EpochSnapshot(1, 10, rows)])
    table = render_table(report)
    headers = [str(c.header) for c in table.columns]
    search = table.columns[headers.index("search acc")]
    evaluate = table.columns[headers.index("eval acc")]
    assert list(search.cells) == ["0.97", "-"]  # deep first (higher incentive), random never asked
    assert list(evaluate.cells) == ["0.90", "0.10"]
    assert report.to_json()["registry"] is None


@pytest.mark.slow
def test_a_registry_that_cannot_be_opened_stops_the_run_with_one_line(tmp_path):
    """Seeding runs in a thread; its failure reaches the main thread as one DevnetError line
    naming what is wrong (here the ledger path is a folder), never a traceback."""
    from types import SimpleNamespace

    from mycel_subnet.devnet.collective_phase import Seeding
    from mycel_subnet.devnet.errors import DevnetError

    ledger = tmp_path / "ledger.db"
    ledger.mkdir()
    world = DevnetWorld(
        home=tmp_path, ledger=ledger, ipfs=tmp_path / "ipfs", instances=tmp_path / "inst",
        logs=tmp_path / "logs", validator_state=tmp_path / "v", validator_account="v.test",
        gateway_port=1, bound_miner=None, bound_account=None, api_key="unused",
    )  # fmt: skip
    with (tmp_path / "out.txt").open("w") as sink, pytest.raises(DevnetError) as caught:
        Seeding(world, SimpleNamespace(wallets_dir=tmp_path), Console(file=sink)).join(120)
    message = str(caught.value)
    assert message.startswith("filling the pattern registry failed: ")
    assert "ledger" in message and "\n" not in message and "Traceback" not in message
