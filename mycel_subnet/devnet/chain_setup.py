"""Create the devnet's throwaway chain, subnet and wallets: registered, funded and staked."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
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
    notes: list[str] = field(default_factory=list)  # what set-up did to a reused chain

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
    wallets_dir = wallets_dir_for(plan)
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
    chain = DevnetChain(
        path=path,
        netuid=netuid,
        wallets_dir=wallets_dir,
        validator=_participant(validator_wallet, validator_uid),
        miners=miners,
    )
    if not fresh:
        chain.notes.extend(clean_stale_neurons(chain, owner.hotkey.ss58_address))
    return chain


DEVNET_NEAR_OWNER = "owner.devnet.test"
DEVNET_VALIDATOR_NEAR = "validator.devnet.test"


def prepare_near(
    ledger_path: Path,
    validator_account: str = DEVNET_VALIDATOR_NEAR,
    owner: str = DEVNET_NEAR_OWNER,
) -> str:
    """The devnet's local NEAR ledger: both contracts deployed (owned by `owner`), and the
    validator's NEAR account funded, allowed to mirror rewards and confirm hotkey bindings
    (reputation) and to attest patterns (registry). Idempotent; returns the validator's account."""
    from mycel_subnet.near.ledger import DEFAULT_REGISTRY, DEFAULT_REPUTATION, ONE_NEAR, LocalLedger

    with LocalLedger(ledger_path) as ledger:
        ledger.ensure_mycel_contracts(owner)
        ledger.create_account(validator_account, 100 * ONE_NEAR)
        ledger.call(owner, DEFAULT_REPUTATION, "add_validator", {"account": validator_account})
        ledger.call(owner, DEFAULT_REGISTRY, "add_attester", {"account": validator_account})
    return validator_account


def wallets_dir_for(plan: DevnetPlan) -> Path:
    """Wallets live beside their chain, so a rerun with ``--chain FILE`` finds the same keys
    (and so the same uids) instead of registering new ones next to the old."""
    path = plan.chain_file
    if plan.chain_path is None:
        return plan.out_dir / "wallets"
    return path.parent / f"{path.stem}-wallets"


class StaleNeuronsError(RuntimeError):
    """A reused chain holds neurons this devnet cannot account for."""


def clean_stale_neurons(chain: DevnetChain, owner_hotkey: str) -> list[str]:
    """On a reused chain, withdraw the endpoints of this devnet's own miners that are not part
    of this run (an earlier run with more miners), so the validator does not query dead uids;
    refuse a chain with neurons whose keys the devnet does not hold. Returns notes."""
    ours = {chain.validator.hotkey, owner_hotkey, *(m.hotkey for m in chain.miners)}
    spare = _spare_miner_wallets(chain.wallets_dir, {m.name for m in chain.miners})
    port = ChainPort(chain.network, chain.netuid)
    try:
        graph = port.metagraph()
    finally:
        port.close()
    foreign, notes = [], []
    for neuron in graph.neurons:
        if neuron.hotkey in ours:
            continue
        wallet = spare.get(neuron.hotkey)
        if wallet is None:
            foreign.append(neuron.uid)
            continue
        if neuron.is_serving:
            withdraw = ChainPort(chain.network, chain.netuid, wallet)
            try:
                result = withdraw.reset_axon()
            finally:
                withdraw.close()
            if not result.ok:
                raise StaleNeuronsError(
                    f"could not withdraw the endpoint of stale uid {neuron.uid}: {result.message}"
                )
        notes.append(
            f"uid {neuron.uid} ({wallet.name}, from an earlier run on this chain) is not part of "
            "this run: its endpoint was withdrawn and it is left out of the table"
        )
    if foreign:
        raise StaleNeuronsError(
            f"chain {chain.path} holds neuron(s) the devnet has no keys for (uids "
            f"{', '.join(map(str, sorted(foreign)))}); its wallets are not in {chain.wallets_dir}. "
            "Run without --chain for a fresh chain, or pass a chain file of an earlier devnet run"
        )
    for note in notes:
        log.info(note)
    return notes


def _spare_miner_wallets(wallets_dir: Path, in_use: set[str]) -> dict[str, Any]:
    """hotkey -> wallet for the devnet miner wallets in ``wallets_dir`` this run does not use."""
    import bittensor as bt

    found = {}
    for folder in sorted(Path(wallets_dir).glob("miner*")):
        if folder.name in in_use or not (folder / "hotkeys" / "default").exists():
            continue
        wallet = bt.Wallet(folder.name, "default", str(wallets_dir))
        found[wallet.hotkey.ss58_address] = wallet
    return found


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
