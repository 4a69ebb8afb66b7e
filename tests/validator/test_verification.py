"""Issue #14 items 3 and 4 end to end: the validator loop on the embedded sim chain with real
miner services verifies published patterns and attests them on the NEAR registry, quarantines
unsafe code, confirms a miner's binding to a NEAR account so its rewards raise that account's
reputation, and keeps mirroring through a chain reset, saying so in its step log.

Only the chain node is replaced (by the sim, through the real bittensor SDK) and NEAR by the
local ledger running the contracts' logic; miners are the real service with real engines.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

from mycel_subnet.chain.port import ChainPort
from mycel_subnet.chain.sim import admin
from mycel_subnet.chain.sim.params import GenesisConfig
from mycel_subnet.chain.wallets import create_wallet
from mycel_subnet.cli.main import main
from mycel_subnet.config import NearSettings
from mycel_subnet.engines.demo import ConstantEngine
from mycel_subnet.engines.pattern_engine import PatternEngine
from mycel_subnet.engines.solver import SEARCH, SolverEngine
from mycel_subnet.validator.bindings import BindingBook
from mycel_subnet.validator.loop import Validator, ValidatorConfig
from mycel_subnet.validator.mirror import build_mirror
from mycel_subnet.validator.spec import spec_version
from mycel_subnet.validator.steplog import read_steps
from mycel_subnet.validator.verification import LOG_FILE, PatternVerifier, VerifyPolicy
from mycel_subnet.validator.verify_store import VERIFY_FILE, VerificationStore
from tests.validator.servers import miner_app, serve
from tests.validator.verify_world import (
    VALIDATOR,
    near_world,
    task_patterns,
    unsafe_pattern,
)

TIMEOUT_S = 8.0
MAX_STEPS = 3  # the bound: every published pattern is settled within this many steps
HPARAMS = {"tempo": 10, "weights_rate_limit": 5, "serving_rate_limit": 5}


def _honest():
    return SolverEngine(SEARCH, PatternEngine(None, None, use_presidio=False))


def _join(path, netuid, wallet, http_port: int | None = None, stake: float = 0.0) -> ChainPort:
    port = ChainPort(f"sim:{path}", netuid, wallet)
    assert port.register().ok
    if stake:
        assert port.add_stake(stake).ok
    if http_port is not None:
        assert port.serve_axon("127.0.0.1", http_port).ok
    return port


def _reset_chain(path: Path, wallets: Path, members: list[tuple], owner_tao: float = 0) -> int:
    """A fresh chain (blocks from 1 again) with the same wallets registered and serving."""
    admin.create_chain(path, GenesisConfig(manual=True, hparams=HPARAMS))
    owner = create_wallet("owner", "hot", wallets, devnet=True)
    netuid = admin.create_subnet(path, owner)
    for wallet, http_port, stake in members:
        admin.fund(path, wallet.coldkeypub.ss58_address, 30)
        _join(path, netuid, wallet, http_port, stake)
    admin.advance_blocks(path, 10)
    return netuid


def test_the_loop_verifies_attests_quarantines_credits_bound_miners_and_survives_a_reset(
    devnet, tmp_path
):
    path, netuid, make_wallet = devnet
    world = asyncio.run(near_world(tmp_path))
    good, broken = task_patterns(11)
    unsafe = unsafe_pattern()
    ids = {name: asyncio.run(world.publish(p))
           for name, p in (("good", good), ("broken", broken), ("unsafe", unsafe))}  # fmt: skip

    val_wallet = make_wallet("val", tao=30)
    _join(path, netuid, val_wallet, stake=20)
    vkey = val_wallet.hotkey.ss58_address
    state = tmp_path / "state"
    members: list[tuple] = [(val_wallet, None, 20)]
    with contextlib.ExitStack() as stack:
        wallets = {}
        for name, engine in (("bound", _honest()), ("honest", _honest()),
                             ("liar", ConstantEngine(score=100))):  # fmt: skip
            wallet = wallets[name] = make_wallet(f"m_{name}", tao=5)
            http_port = stack.enter_context(serve(miner_app(wallet, engine, vkey)))
            _join(path, netuid, wallet, http_port)
            members.append((wallet, http_port, 0))
        # The bound miner's operator binds its hotkey to bob.test with the real command line.
        bind = ["near", "bind", "--wallet.name", "m_bound", "--wallet.hotkey", "hot",
                "--wallet.path", str(tmp_path / "wallets"), "--near.account_id", "bob.test",
                "--ledger", str(tmp_path / "ledger.db")]  # fmt: skip
        assert main(bind) == 0
        admin.advance_blocks(path, 10)  # an epoch: the staked validator gets its permit

        book = BindingBook(world.validator)
        config = ValidatorConfig(
            sample_size=16, timeout_s=TIMEOUT_S, step_interval_s=0.0, alpha=0.5,
            max_response_bytes=1_048_576, state_dir=state, version_key=spec_version(),
        )  # fmt: skip
        verifier = PatternVerifier(
            world.validator, world.validator, world.content,
            VerificationStore(state / VERIFY_FILE), wallet=val_wallet,
            policy=VerifyPolicy(per_step=3, timeout_s=TIMEOUT_S), log_dir=state,
            bound_account=book.account_of,
        )  # fmt: skip
        mirror = build_mirror(state, NearSettings(account_id=VALIDATOR), client=world.validator,
                              bindings=book)  # fmt: skip
        validator = Validator(config, wallet=val_wallet, chain=ChainPort(f"sim:{path}", netuid,
                              val_wallet), mirror=mirror, verifier=verifier)  # fmt: skip
        bob_before = asyncio.run(world.validator.get_reputation("bob.test"))

        settled_at = None
        for step in range(1, MAX_STEPS + 1):
            report = asyncio.run(validator.step())
            entries = {n: asyncio.run(world.validator.get_pattern(i)) for n, i in ids.items()}
            if all(e.status != "unverified" for e in entries.values()):
                settled_at = step
                break
            admin.advance_blocks(path, 5)
        assert settled_at is not None, {n: e.status for n, e in entries.items()}
        assert report.weights is not None

        # Verified: the registry's attested quality moved from nothing, and tells them apart.
        assert entries["good"].status == "verified" and entries["good"].attestations == 1
        assert entries["good"].attested_quality_ppm > entries["broken"].attested_quality_ppm
        assert entries["good"].attested_quality_ppm > 400_000
        assert entries["broken"].attested_quality_ppm < 300_000  # the liar's 100s do not count
        assert entries["unsafe"].status == "quarantined"
        assert "PY_SHELL" in entries["unsafe"].quarantine_reason
        listed = {p.pattern_hash for p in asyncio.run(world.validator.find_patterns("data"))}
        assert unsafe.id not in listed and good.id in listed
        logged = [json.loads(x) for x in (state / LOG_FILE).read_text().splitlines()]
        asked = {h for entry in logged for v in entry["verdicts"] for h in v["opinions"]}
        liar = wallets["liar"].hotkey.ss58_address
        bound = wallets["bound"].hotkey.ss58_address
        assert liar not in asked and wallets["honest"].hotkey.ss58_address in asked

        # The bound miner's rewards went to bob.test once its binding was confirmed.
        steps = read_steps(state)
        notes = [n for s in steps for n in s["notes"]]
        assert any(n.startswith("verification: ") for n in notes)
        assert any(f"binding of {bound} to bob.test confirmed" in n for n in notes)
        binding = asyncio.run(world.validator.get_binding(bound))
        assert binding.account == "bob.test" and binding.confirmed_by == VALIDATOR
        bob = asyncio.run(world.validator.get_reputation("bob.test"))
        assert bob.reward_epochs > bob_before.reward_epochs and bob.reward_ema_ppm > 0
        assert bob.composite_ppm > bob_before.composite_ppm

        admin.advance_blocks(path, 40)  # the old chain runs on a while
        report = asyncio.run(validator.step())
        assert report.weights.ok, report.weights
        last_epoch = asyncio.run(world.validator.get_reputation("bob.test")).last_epoch

        # The chain is reset: blocks start again below the last mirrored one.
        reset_path = tmp_path / "chain-reset.sqlite"
        new_netuid = _reset_chain(reset_path, tmp_path / "wallets", members)
        validator.chain = ChainPort(f"sim:{reset_path}", new_netuid, val_wallet)
        validator.weights.chain = validator.chain
        for _ in range(MAX_STEPS):
            after = asyncio.run(validator.step())
            if after.weights is not None and after.weights.ok:
                break
            admin.advance_blocks(reset_path, 5)
        assert after.weights.ok and after.block < report.block, (after.weights, after.block)
        last = read_steps(state)[-1]
        assert any(n.startswith("chain reset: ") for n in last["notes"]), last["notes"]
        bob_after = asyncio.run(world.validator.get_reputation("bob.test"))
        assert bob_after.last_epoch == last_epoch + 1  # recorded, not dropped as stale
        validator.close()
    world.close()
