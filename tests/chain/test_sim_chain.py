"""End-to-end tests of ChainPort on the sim chain through the real bittensor 11.3.0 SDK.

The only stand-in is the chain node: the sim (our implementation of the SDK's Substrate
protocol) replaces a subtensor node, which cannot run on this machine. Intents, weight
normalisation, metagraph decoding and error classification are the SDK's own code.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import bittensor as bt
import pytest

from mycel_subnet.chain.port import ChainPort
from mycel_subnet.chain.sim import admin
from mycel_subnet.chain.sim.chain import SimChain
from mycel_subnet.chain.types import ChainErrorKind

REPO = Path(__file__).resolve().parents[2]


def _port(path, netuid, wallet) -> ChainPort:
    return ChainPort(f"sim:{path}", netuid, wallet)


def _validator(path, netuid, make_wallet, name="val", stake=5.0) -> ChainPort:
    """A registered, staked validator that has been through one epoch (so it holds a permit)."""
    port = _port(path, netuid, make_wallet(name, tao=stake + 1))
    assert port.register().ok
    assert port.add_stake(stake).ok
    return port


def test_register_serve_set_weights_epoch(devnet):
    path, netuid, make_wallet = devnet
    val = _validator(path, netuid, make_wallet)
    miners = [_port(path, netuid, make_wallet(f"m{i}")) for i in range(2)]
    for i, miner in enumerate(miners):
        assert miner.register().ok
        assert miner.serve_axon(f"10.0.0.{i + 1}", 8091 + i).ok
    graph = val.metagraph()
    uids = [miner.my_uid() for miner in miners]
    assert graph.by_uid(uids[0]).endpoint == "10.0.0.1:8091"
    assert graph.by_uid(uids[1]).is_serving
    assert not graph.by_hotkey(val.wallet.hotkey.ss58_address).validator_permit

    admin.advance_blocks(path, 10)  # epoch: permits go to the top stake
    assert val.metagraph().by_uid(val.my_uid()).validator_permit
    result = val.set_weights(uids, [0.75, 0.25], version_key=0)
    assert result.ok, result.message
    admin.advance_blocks(path, 10)

    graph = val.metagraph()
    high, low = graph.by_uid(uids[0]), graph.by_uid(uids[1])
    assert high.incentive > low.incentive > 0
    assert high.incentive == pytest.approx(3 * low.incentive, rel=0.05)
    assert high.emission > 0 and high.stake > 0  # emission credits the hotkey's stake
    assert graph.by_uid(val.my_uid()).dividends > 0


def test_rate_limit_and_not_registered(devnet):
    path, netuid, make_wallet = devnet
    val = _validator(path, netuid, make_wallet)
    admin.advance_blocks(path, 10)
    miner = _port(path, netuid, make_wallet("m"))
    not_yet = miner.serve_axon("10.0.0.9", 9000)
    assert not not_yet.ok and not_yet.error is ChainErrorKind.NOT_REGISTERED
    unregistered_weights = miner.set_weights([0], [1.0], 0)
    assert unregistered_weights.error is ChainErrorKind.NOT_REGISTERED
    assert miner.register().ok
    uid = miner.my_uid()
    assert val.set_weights([uid], [1.0], 0).ok
    again = val.set_weights([uid], [1.0], 0)
    assert not again.ok and again.error is ChainErrorKind.RATE_LIMITED
    admin.advance_blocks(path, 5)
    assert val.set_weights([uid], [1.0], 0).ok

    assert miner.serve_axon("10.0.0.9", 9000).ok
    moved = miner.serve_axon("10.0.0.9", 9001)
    assert moved.error is ChainErrorKind.RATE_LIMITED  # serving_rate_limit is 5 blocks


def test_no_permit_and_stale_version_key(devnet):
    path, netuid, make_wallet = devnet
    val = _validator(path, netuid, make_wallet)
    miner = _port(path, netuid, make_wallet("m"))
    assert miner.register().ok
    early = val.set_weights([miner.my_uid()], [1.0], 0)  # no epoch yet: no permit
    assert early.error is ChainErrorKind.NO_VALIDATOR_PERMIT
    admin.advance_blocks(path, 10)
    admin.set_hyperparameter(path, netuid, "weights_version", 7)
    stale = val.set_weights([miner.my_uid()], [1.0], 6)
    assert stale.error is ChainErrorKind.STALE_VERSION_KEY and "7" in stale.message
    assert val.set_weights([miner.my_uid()], [1.0], 7).ok


def test_chain_rejections_come_back_typed(devnet):
    """Bypass ChainPort's own checks: the sim itself must refuse, with subtensor's names."""
    path, netuid, make_wallet = devnet
    val = _validator(path, netuid, make_wallet)
    admin.set_hyperparameter(path, netuid, "weights_version", 3)
    admin.advance_blocks(path, 10)
    client = val._sub()
    result = client.execute(
        bt.SetWeights(netuid=netuid, uids=[0], weights=[1.0], version_key=1), val.wallet
    )
    assert not result.success and result.error.name == "IncorrectWeightVersionKey"
    poor = _port(path, netuid, make_wallet("poor", tao=0.01))
    broke = poor.register()
    assert not broke.ok and broke.error is ChainErrorKind.INSUFFICIENT_BALANCE
    with pytest.raises(NotImplementedError, match="remove_stake"):
        client.submit_call(
            bt.calls.SubtensorModule.remove_stake(
                hotkey=val.wallet.hotkey.ss58_address, netuid=netuid, amount_unstaked=1
            ),
            val.wallet,
        )


def test_full_subnet_replaces_lowest_pruning_score(devnet):
    path, netuid, make_wallet = devnet
    admin.set_hyperparameter(path, netuid, "max_allowed_uids", 4)
    admin.set_hyperparameter(path, netuid, "immunity_period", 0)
    val = _validator(path, netuid, make_wallet)  # uid 1 (the owner hotkey holds uid 0)
    good, bad = (_port(path, netuid, make_wallet(n)) for n in ("good", "bad"))
    assert good.register().ok and bad.register().ok
    admin.advance_blocks(path, 10)
    assert val.set_weights([good.my_uid()], [1.0], 0).ok
    admin.advance_blocks(path, 10)  # good earns incentive, so bad has the lowest pruning score
    bad_uid = bad.my_uid()
    newcomer = _port(path, netuid, make_wallet("new"))
    assert newcomer.register().ok
    assert newcomer.my_uid() == bad_uid
    assert bad.my_uid() is None
    graph = val.metagraph()
    assert graph.n == 4 and graph.by_uid(bad_uid).hotkey == newcomer.wallet.hotkey.ss58_address


def test_two_processes_register_concurrently(devnet, tmp_path):
    path, netuid, make_wallet = devnet
    wallets = [make_wallet(f"p{i}") for i in range(2)]
    script = (
        "import sys, bittensor as bt\n"
        "from mycel_subnet.chain.port import ChainPort\n"
        "w = bt.Wallet(sys.argv[1], 'hot', sys.argv[2])\n"
        "r = ChainPort('sim:' + sys.argv[3], int(sys.argv[4]), w).register()\n"
        "print(r.ok, r.message)\n"
        "sys.exit(0 if r.ok else 1)\n"
    )
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                script,
                w.name,
                str(tmp_path / "wallets"),
                str(path),
                str(netuid),
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for w in wallets
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    graph = _port(path, netuid, None).metagraph()
    uids = {graph.by_hotkey(w.hotkey.ss58_address).uid for w in wallets}
    assert len(uids) == 2  # both landed, on distinct uids


def test_restart_keeps_state(devnet):
    path, netuid, make_wallet = devnet
    miner = _port(path, netuid, make_wallet("m"))
    assert miner.register().ok and miner.serve_axon("10.1.2.3", 8091).ok
    before = miner.metagraph()
    miner.close()
    block = admin.advance_blocks(path, 3)
    reopened = _port(path, netuid, miner.wallet)
    after = reopened.metagraph()
    assert after.block == block
    assert after.by_hotkey(miner.wallet.hotkey.ss58_address).endpoint == "10.1.2.3:8091"
    assert [n.hotkey for n in after.neurons] == [n.hotkey for n in before.neurons]
    assert SimChain(path).head() == block
    assert admin.balance(path, miner.wallet.coldkeypub.ss58_address) == pytest.approx(9.9)


def test_unreachable_network_is_typed():
    port = ChainPort("ws://127.0.0.1:9", 1, None)
    with pytest.raises(ConnectionError):
        port.current_block()
