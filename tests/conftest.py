"""Shared fixtures: a manual-mode sim chain with one started subnet, for every test package.

Nothing is faked: the real bittensor SDK runs against the sim chain (our Substrate
implementation); only the subtensor node itself is replaced, since none can run here.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# The SDK caches token symbols under ~/.bittensor on connect; keep tests out of $HOME.
os.environ.setdefault(
    "BTCLI_TOKEN_SYMBOLS_CACHE", str(Path(tempfile.mkdtemp()) / "token_symbols.json")
)


@pytest.fixture
def devnet(tmp_path):
    """(chain path, netuid, make_wallet) with tempo 10, weights rate limit 5, manual blocks."""
    from mycel_subnet.chain.sim import admin
    from mycel_subnet.chain.sim.params import GenesisConfig
    from mycel_subnet.chain.wallets import create_wallet

    path = tmp_path / "chain.sqlite"
    admin.create_chain(
        path,
        GenesisConfig(
            manual=True,
            hparams={"tempo": 10, "weights_rate_limit": 5, "serving_rate_limit": 5},
        ),
    )
    wallets_dir = tmp_path / "wallets"

    def make_wallet(name: str, tao: float = 10.0):
        wallet = create_wallet(name, "hot", wallets_dir, devnet=True)
        if tao:
            admin.fund(path, wallet.coldkeypub.ss58_address, tao)
        return wallet

    owner = make_wallet("owner", tao=0)
    netuid = admin.create_subnet(path, owner)
    return path, netuid, make_wallet
