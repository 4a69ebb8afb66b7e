"""Fixtures for the miner service tests: real hotkeys and a miner on loopback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from mycel_subnet.miner.metagraph_cache import MetagraphCache
from tests.miner.harness import make_hotkey, snapshot_with


@dataclass
class Keys:
    miner: Any
    validator: Any  # permit, stake 100
    whale: Any  # permit, stake 1000
    no_permit: Any  # registered, stake 100, no permit
    poor: Any  # permit, stake 0.5
    stranger: Any  # not registered

    def snapshot(self):
        return snapshot_with(
            [
                (self.miner.hotkey.ss58_address, 1.0, False),
                (self.validator.hotkey.ss58_address, 100.0, True),
                (self.whale.hotkey.ss58_address, 1000.0, True),
                (self.no_permit.hotkey.ss58_address, 100.0, False),
                (self.poor.hotkey.ss58_address, 0.5, True),
            ]
        )


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> Keys:
    tmp = tmp_path_factory.mktemp("wallets")
    names = ["miner", "validator", "whale", "no_permit", "poor", "stranger"]
    return Keys(*(make_hotkey(tmp, name) for name in names))


@pytest.fixture
def cache(keys) -> MetagraphCache:
    snap = keys.snapshot()
    return MetagraphCache(lambda: snap, refresh_s=3600, initial=snap)
