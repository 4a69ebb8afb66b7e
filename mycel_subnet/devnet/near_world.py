"""The devnet's NEAR side: one local ledger, one content store, the accounts and the gateway key.

The neurons find the local ledger at its default place, `~/.mycel/near/ledger.db` (no setting
names another), so the devnet gives its neurons a HOME of their own inside the output folder:
the devnet's ledger, registry and index never touch the user's real `~/.mycel`. The devnet's
own process opens the same files by path.

Accounts (all `*.devnet.test` on the local ledger): the contracts' owner; the validator, which
mirrors rewards, confirms hotkey bindings and attests patterns; the instances alice and bob
(creators and buyers), mallory (a poisoner) and seeder (the synthetic patterns); and the NEAR
account of the one miner that binds its hotkey.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mycel_subnet.devnet.chain_setup import DevnetChain, Participant, prepare_near
from mycel_subnet.devnet.plan import DevnetPlan

SUFFIX = ".devnet.test"
INSTANCES = ("alice", "bob", "mallory", "seeder")
GATEWAY_KEY_NAME = "devnet instance bob"
# The local ledger's default place below HOME (mycel_subnet.near.client.DEFAULT_LEDGER_PATH).
LEDGER_BELOW_HOME = Path(".mycel/near/ledger.db")


def account(name: str) -> str:
    return f"{name}{SUFFIX}"


@dataclass(frozen=True)
class DevnetWorld:
    """Where the devnet's NEAR and collective state lives, and who is who on it."""

    home: Path  # HOME of the neurons
    ledger: Path
    ipfs: Path
    instances: Path  # one home folder per instance below it
    logs: Path  # the interaction logs the instances learn from
    validator_state: Path
    validator_account: str
    gateway_port: int
    bound_miner: Participant | None
    bound_account: str | None
    api_key: str = field(repr=False)  # issued for bob; never written to a file or a log

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def instance_config(self, name: str):
        """The InstanceConfig of instance `name` (alice, bob, mallory, seeder)."""
        from mycel_subnet.collective import InstanceConfig
        from mycel_subnet.config import IpfsSettings, NearSettings

        return InstanceConfig(
            home=self.instances / name,
            near=NearSettings(account_id=account(name)),
            ipfs=IpfsSettings(store_dir=self.ipfs),
            ledger_path=self.ledger,
        )


def bound_miner_of(plan: DevnetPlan, chain: DevnetChain) -> Participant | None:
    """The miner that binds its hotkey: the first with an honest engine (it then earns
    reputation for its operator's account), or None when every engine is a dishonest one."""
    from mycel_subnet.devnet.plan import DEMO_ENGINES

    for miner, engine in zip(chain.miners, plan.miner_engines, strict=True):
        if engine not in DEMO_ENGINES:
            return miner
    return None


def prepare_world(plan: DevnetPlan, chain: DevnetChain) -> DevnetWorld:
    """The ledger with both contracts and the validator allowed on them, and the gateway key
    (only its hash is stored, in the validator's keys file). Nothing is published here."""
    from mycel_subnet.gateway.keys import KEYS_FILE, KeyStore

    home = plan.out_dir / "home"
    ledger = home / LEDGER_BELOW_HOME
    validator_account = prepare_near(ledger)  # owner.devnet.test owns both contracts
    validator_state = plan.out_dir / "validator"
    validator_state.mkdir(parents=True, exist_ok=True)
    with KeyStore(validator_state / KEYS_FILE) as keys:
        api_key = keys.issue(GATEWAY_KEY_NAME).key
    bound = bound_miner_of(plan, chain)
    return DevnetWorld(
        home=home,
        ledger=ledger,
        ipfs=plan.out_dir / "ipfs",
        instances=plan.out_dir / "instances",
        logs=plan.out_dir / "logs-in",
        validator_state=validator_state,
        validator_account=validator_account,
        gateway_port=plan.gateway_port,
        bound_miner=bound,
        bound_account=account(bound.name) if bound is not None else None,
        api_key=api_key,
    )
