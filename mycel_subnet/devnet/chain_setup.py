"""Create the devnet's throwaway chain, subnet and wallets: registered, funded and staked."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mycel_subnet.chain.port import ChainPort
from mycel_subnet.chain.sim import admin
from mycel_subnet.chain.sim.params import GenesisConfig
from mycel_subnet.chain.wallets import create_wallet
from mycel_subnet.devnet.plan import DevnetPlan

log = logging.getLogger(__name__)

VALIDATOR_FUNDS_TAO = 2_000.0
VALIDATOR_STAKE_TAO = 1_000.0
MINER_FUNDS_TAO = 10.0


@dataclass(frozen=True)
class Participant:
    name: str  # wallet name (one coldkey each, so copy detection across coldkeys applies)
    hotkey: str  # ss58
    coldkey: str  # ss58
    uid: int


@dataclass(frozen=True)
class DevnetChain:
    path: Path
    netuid: int
    wallets_dir: Path
    validator: Participant
    miners: list[Participant]

    @property
    def network(self) -> str:
        return f"sim:{self.path}"


def genesis_for(plan: DevnetPlan) -> GenesisConfig:
    """Clock-driven blocks with hyperparameters that let a few epochs show the mechanism."""
    return GenesisConfig(
        block_time_s=plan.block_time_s,
        manual=False,
        hparams={
            "tempo": plan.tempo,
            "weights_rate_limit": max(2, plan.tempo // 4),
            "serving_rate_limit": 0,
            "immunity_period": 100 * plan.tempo,
            "min_allowed_weights": 1,
            "activity_cutoff": 50 * plan.tempo,
            "max_validators": 8,
        },
    )


def _register(network: str, netuid: int, wallet: Any) -> int:
    port = ChainPort(network, netuid, wallet)
    try:
        existing = port.my_uid()
        if existing is not None:  # a kept chain from an earlier run
            return existing
        result = port.register()
        if not result.ok:
            raise RuntimeError(f"registering {wallet.name} failed: {result.message}")
        uid = port.my_uid()
        if uid is None:
            raise RuntimeError(f"{wallet.name} is not in the metagraph after registering")
        return uid
    finally:
        port.close()


def create_devnet_chain(plan: DevnetPlan) -> DevnetChain:
    """A new chain (or the kept one) with a started subnet, a staked validator and N miners."""
    path = plan.chain_file
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = not path.exists()
    admin.create_chain(path, genesis_for(plan))
    wallets_dir = plan.out_dir / "wallets" if fresh else path.parent / "wallets"
    network = f"sim:{path}"

    owner = create_wallet("owner", "default", wallets_dir, devnet=True)
    netuid = _existing_netuid(path) if not fresh else None
    if netuid is None:
        netuid = admin.create_subnet(path, owner)
    log.info("subnet %s on %s", netuid, path)

    validator_wallet = create_wallet("validator", "default", wallets_dir, devnet=True)
    admin.fund(path, validator_wallet.coldkeypub.ss58_address, VALIDATOR_FUNDS_TAO)
    validator_uid = _register(network, netuid, validator_wallet)
    staker = ChainPort(network, netuid, validator_wallet)
    try:
        staked = staker.add_stake(VALIDATOR_STAKE_TAO)
        if not staked.ok:
            raise RuntimeError(f"staking the validator failed: {staked.message}")
    finally:
        staker.close()

    miners = []
    for i in range(plan.miners):
        wallet = create_wallet(f"miner{i}", "default", wallets_dir, devnet=True)
        admin.fund(path, wallet.coldkeypub.ss58_address, MINER_FUNDS_TAO)
        uid = _register(network, netuid, wallet)
        miners.append(_participant(wallet, uid))
    return DevnetChain(
        path=path,
        netuid=netuid,
        wallets_dir=wallets_dir,
        validator=_participant(validator_wallet, validator_uid),
        miners=miners,
    )


def _participant(wallet: Any, uid: int) -> Participant:
    return Participant(
        name=wallet.name,
        hotkey=wallet.hotkey.ss58_address,
        coldkey=wallet.coldkeypub.ss58_address,
        uid=uid,
    )


def _existing_netuid(path: Path) -> int | None:
    """The first started subnet on a kept chain, so a second run reuses it."""
    sim = admin.open_chain(path)
    with sim.store.read() as conn:
        row = conn.execute(
            "SELECT netuid FROM subnets WHERE start_block IS NOT NULL ORDER BY netuid LIMIT 1"
        ).fetchone()
    return int(row["netuid"]) if row else None
