"""The devnet's NEAR set-up (mycel_subnet/devnet/chain_setup.prepare_near) on a real local
ledger: the validator's NEAR account may attest patterns and mirror rewards, idempotently."""

from __future__ import annotations

from mycel_subnet.devnet.chain_setup import DEVNET_VALIDATOR_NEAR, prepare_near
from mycel_subnet.near.ledger import ONE_NEAR, LocalLedger
from tests.near.conftest import HASH_A, REGISTRY, REPUTATION, register


def test_devnet_validator_is_an_attester_and_a_reward_validator(tmp_path):
    path = tmp_path / "near" / "ledger.db"
    assert prepare_near(path) == prepare_near(path) == DEVNET_VALIDATOR_NEAR  # twice: no-op
    with LocalLedger(path) as ledger:
        assert ledger.view(REGISTRY, "get_config")["attesters"] == [DEVNET_VALIDATOR_NEAR]
        assert ledger.view(REPUTATION, "get_config")["validators"] == [DEVNET_VALIDATOR_NEAR]
        ledger.create_account("alice.test", ONE_NEAR)
        register(ledger, "alice.test", HASH_A, 1)
        args = {"pattern_id": 1, "quality_ppm": 800_000, "safe": True}
        out = ledger.call(DEVNET_VALIDATOR_NEAR, REGISTRY, "attest_pattern", args)
        assert out.result["status"] == "verified"
        rewards = {"epoch": 1, "entries": {"alice.test": 500_000}}
        ledger.call(DEVNET_VALIDATOR_NEAR, REPUTATION, "record_validator_rewards", rewards)
