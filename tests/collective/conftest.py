"""Two instances (separate homes and NEAR accounts) on one local ledger and one content store
(the stand-in for IPFS that both can reach), with the contracts owned by a third account."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

OWNER = "owner.mycel.test"
ALICE = "alice.mycel.test"
BOB = "bob.mycel.test"


@dataclass(frozen=True)
class World:
    root: Path
    ledger: Path
    ipfs: Path

    def home(self, account: str) -> Path:
        return self.root / account

    def flags(self, account: str) -> list[str]:
        """The CLI flags for `account`'s instance."""
        return [
            "--home", str(self.home(account)), "--near.account_id", account,
            "--ledger", str(self.ledger), "--ipfs.store_dir", str(self.ipfs),
        ]  # fmt: skip

    def config(self, account: str):
        from mycel_subnet.collective import InstanceConfig
        from mycel_subnet.config import IpfsSettings, NearSettings

        return InstanceConfig(
            home=self.home(account),
            near=NearSettings(account_id=account),
            ipfs=IpfsSettings(store_dir=self.ipfs),
            ledger_path=self.ledger,
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    import torch

    from mycel_subnet.near.ledger import LocalLedger

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("collective")
    ledger = root / "ledger.db"
    with LocalLedger(ledger) as chain:
        chain.ensure_mycel_contracts(OWNER)
    return World(root, ledger, root / "ipfs")
