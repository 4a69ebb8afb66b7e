"""Where the sim chain used to differ from subtensor for no reason, it now follows it:

- validator permits: subtensor's ``is_topk_nonzero`` (ascending stable sort, bottom n - k
  dropped) keeps the HIGHER uid among equal stakes;
- ``alpha_sigmoid_steepness`` is a hyperparameter: set by the owner (the SDK's SetHyperparameter
  intent) or by root, read back through the SDK, and used by the liquid-alpha epoch;
- ``last_update`` starts at the registration block (subtensor's ``append_neuron``), so a new
  neuron is active at once and waits ``weights_rate_limit`` blocks before its first weights.
"""

from __future__ import annotations

import bittensor as bt
import numpy as np
import pytest

from mycel_subnet.chain.port import ChainPort
from mycel_subnet.chain.sim import admin, epoch
from mycel_subnet.chain.sim.substrate import SimSubstrate
from mycel_subnet.chain.types import ChainErrorKind


def _port(path, netuid, wallet) -> ChainPort:
    return ChainPort(f"sim:{path}", netuid, wallet)


def test_permit_ties_go_to_the_higher_uid_as_subtensor_top_k_keeps_them():
    stake = np.array([5, 5, 5, 0, 9], dtype=np.float64)
    assert epoch.permits(stake, 2, 0).tolist() == [False, False, True, False, True]
    assert epoch.permits(stake, 3, 0).tolist() == [False, True, True, False, True]
    # fewer neurons than k: every non-zero stake; the threshold zeroes the small ones first
    assert epoch.permits(stake, 10, 0).tolist() == [True, True, True, False, True]
    assert epoch.permits(stake, 10, 6).tolist() == [False, False, False, False, True]
    # a zero stake never holds a permit even when k leaves room for it
    assert epoch.permits(np.array([0.0, 0.0, 3.0]), 3, 0).tolist() == [False, False, True]


def test_equal_stakes_on_chain_give_the_permit_to_the_higher_uid(devnet):
    path, netuid, make_wallet = devnet
    admin.set_hyperparameter(path, netuid, "max_validators", 1)
    first, second = (_port(path, netuid, make_wallet(f"v{i}", tao=6)) for i in range(2))
    for port in (first, second):
        assert port.register().ok
        assert port.add_stake(5.0).ok
    admin.advance_blocks(path, 10)
    graph = first.metagraph()
    low, high = sorted((first.my_uid(), second.my_uid()))
    assert not graph.by_uid(low).validator_permit
    assert graph.by_uid(high).validator_permit


def test_alpha_sigmoid_steepness_is_a_hyperparameter_the_owner_and_root_can_set(devnet, tmp_path):
    path, netuid, _ = devnet
    owner = bt.Wallet("owner", "hot", str(tmp_path / "wallets"))
    admin.fund(path, owner.coldkeypub.ss58_address, 1.0)
    client = bt.Subtensor("local", substrate=SimSubstrate(chain=admin.open_existing(path)))
    try:
        assert client.read("subnet_hyperparameters", netuid=netuid)["alpha_sigmoid_steepness"] == (
            1000
        )
        intent = bt.SetHyperparameter(netuid=netuid, name="alpha_sigmoid_steepness", value=250)
        result = client.execute(intent, owner)
        assert result.success, result.message
        assert (
            client.read("subnet_hyperparameters", netuid=netuid)["alpha_sigmoid_steepness"] == 250
        )
        # the SDK refuses a negative value itself; the raw call is refused by the chain
        call = bt.calls.AdminUtils.sudo_set_alpha_sigmoid_steepness(netuid=netuid, steepness=-5)
        refused = client.submit_call(call, owner)
        assert not refused.success
        assert getattr(refused.error, "name", None) == "NegativeSigmoidSteepness", refused.message
    finally:
        client.close()
    admin.set_hyperparameter(path, netuid, "alpha_sigmoid_steepness", 4000)
    sim = admin.open_existing(path)
    with sim.store.read() as conn:
        assert sim.hparams(conn, netuid)["alpha_sigmoid_steepness"] == 4000


def _liquid_alpha_bonds(tmp_path, make_chain, steepness: int) -> np.ndarray:
    """Bonds after three Yuma 3 epochs with liquid alpha at the given steepness."""
    path, netuid, make_wallet = make_chain(tmp_path / f"s{steepness}")
    settings = {"yuma3_enabled": True, "liquid_alpha_enabled": True,
                "alpha_sigmoid_steepness": steepness, "weights_rate_limit": 1}  # fmt: skip
    for name, value in settings.items():
        admin.set_hyperparameter(path, netuid, name, value)
    validators = [_port(path, netuid, make_wallet(f"v{i}", tao=10)) for i in range(2)]
    miners = [_port(path, netuid, make_wallet(f"m{i}")) for i in range(2)]
    for port, stake in zip(validators, (6.0, 3.0), strict=True):
        assert port.register().ok
        assert port.add_stake(stake).ok
    for port in miners:
        assert port.register().ok
    admin.advance_blocks(path, 10)  # permits
    uids = [m.my_uid() for m in miners]
    for _ in range(3):
        for port, split in zip(validators, ([0.9, 0.1], [0.2, 0.8]), strict=True):
            assert port.set_weights(uids, split, version_key=0).ok
        admin.advance_blocks(path, 10)
    sim = admin.open_existing(path)
    with sim.store.read() as conn:
        return epoch.load_bonds(conn, netuid, 5)


@pytest.fixture
def make_chain():
    from mycel_subnet.chain.sim.params import GenesisConfig
    from mycel_subnet.chain.wallets import create_wallet

    def make(folder):
        folder.mkdir()
        path = folder / "chain.sqlite"
        admin.create_chain(path, GenesisConfig(manual=True, hparams={"tempo": 10}))

        def make_wallet(name: str, tao: float = 10.0):
            wallet = create_wallet(name, "hot", folder / "wallets", devnet=True)
            if tao:
                admin.fund(path, wallet.coldkeypub.ss58_address, tao)
            return wallet

        return path, admin.create_subnet(path, make_wallet("owner", tao=0)), make_wallet

    return make


def test_the_epoch_uses_the_chain_s_steepness(tmp_path, make_chain):
    flat = _liquid_alpha_bonds(tmp_path, make_chain, 0)
    steep = _liquid_alpha_bonds(tmp_path, make_chain, 5000)
    assert np.abs(flat).sum() > 0
    assert not np.allclose(flat, steep, atol=1e-4)


def test_last_update_starts_at_registration_and_gates_the_first_weights(devnet):
    path, netuid, make_wallet = devnet  # weights_rate_limit 5
    admin.advance_blocks(path, 3)
    val = _port(path, netuid, make_wallet("val", tao=6))
    miner = _port(path, netuid, make_wallet("m"))
    assert val.register().ok and miner.register().ok
    registered_at = val.current_block()
    assert val.add_stake(5.0).ok
    me = val.metagraph().by_uid(val.my_uid())
    assert me.last_update == registered_at > 0
    assert me.active  # active from registration, as on subtensor
    admin.advance_blocks(path, 10)  # a permit; ten blocks since registration
    assert val.set_weights([miner.my_uid()], [1.0], version_key=0).ok
    # a neuron registered one block ago must wait out the rate limit first
    late = _port(path, netuid, make_wallet("late", tao=6))
    assert late.register().ok
    refused = late.set_weights([late.my_uid()], [1.0], version_key=0)
    assert refused.error is ChainErrorKind.RATE_LIMITED, refused.message
