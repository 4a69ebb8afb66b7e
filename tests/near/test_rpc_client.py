"""NearRpcRegistryClient (py-near's real signing and RPC code) against a FAKE NEAR JSON-RPC.

The server in fake_rpc.py is fake because no NEAR sandbox (neard) can run here; it decodes
py-near's real signed borsh transactions, verifies their ed25519 signatures and nonces, and
executes them on the local ledger. Loopback only.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import base58
import pytest
import uvicorn
from nacl.signing import SigningKey

from mycel_subnet.near.client import (
    LocalRegistryClient,
    NearRpcRegistryClient,
    RegistryError,
    decode_status,
)
from mycel_subnet.near.ledger import ONE_NEAR
from tests.near.conftest import CID, HASH_A, REGISTRY, REPUTATION
from tests.near.fake_rpc import build_app


@pytest.fixture
def rpc_url(ledger) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(build_app(ledger), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "fake RPC did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def _key_for(ledger, account: str) -> str:
    """A fresh ed25519 key registered on `account`; returns NEAR's secret-key text."""
    signing = SigningKey.generate()
    public = bytes(signing.verify_key)
    ledger.add_access_key(account, "ed25519:" + base58.b58encode(public).decode())
    return "ed25519:" + base58.b58encode(bytes(signing) + public).decode()


def _client(rpc_url: str, ledger, account: str) -> NearRpcRegistryClient:
    return NearRpcRegistryClient(
        rpc_url,
        account,
        _key_for(ledger, account),
        registry=REGISTRY,
        reputation=REPUTATION,
    )


@pytest.mark.asyncio
async def test_py_near_round_trip_on_the_ledger(rpc_url, ledger):
    alice = _client(rpc_url, ledger, "alice.test")
    bob = _client(rpc_url, ledger, "bob.test")
    try:
        price = 2 * ONE_NEAR + 1
        pattern_id = await alice.register_pattern(HASH_A, CID, "code", price)
        assert pattern_id == 1
        alice_before = ledger.balance("alice.test")
        receipt = await bob.use_pattern(pattern_id, price)
        fee = price * 500 // 10_000
        assert (receipt.paid, receipt.creator_share, receipt.fee) == (price, price - fee, fee)
        assert ledger.balance("alice.test") == alice_before + price - fee
        rated = await bob.rate_pattern(pattern_id, True, 5)
        assert rated.rating_count == 1
        found = await bob.find_patterns("code", min_reputation=0.1, limit=5)
        assert [p.id for p in found] == [1]
        assert found[0].price_per_use == price
        score = await bob.get_reputation("alice.test")
        assert (score.successful_uses, score.total_rating) == (1, 5)
    finally:
        await alice.close()
        await bob.close()


@pytest.mark.asyncio
async def test_contract_panics_surface_as_registry_errors(rpc_url, ledger):
    alice = _client(rpc_url, ledger, "alice.test")
    bob = _client(rpc_url, ledger, "bob.test")
    try:
        await alice.register_pattern(HASH_A, CID, "code", ONE_NEAR)
        bob_before = ledger.balance("bob.test")
        with pytest.raises(RegistryError, match="^Insufficient payment$"):
            await bob.use_pattern(1, ONE_NEAR - 1)
        assert ledger.balance("bob.test") == bob_before  # rolled back, deposit refunded
        with pytest.raises(RegistryError, match="Pattern already registered as 1"):
            await bob.register_pattern(HASH_A, CID, "code", 1)
        with pytest.raises(RegistryError, match="Invalid account"):
            await bob.get_reputation("Not Valid")
        assert "ed25519" not in repr(bob)
    finally:
        await alice.close()
        await bob.close()


@pytest.mark.asyncio
async def test_unregistered_key_is_refused(rpc_url, ledger):
    stranger = NearRpcRegistryClient(
        rpc_url,
        "carol.test",
        "ed25519:" + base58.b58encode(bytes(SigningKey.generate()) + b"\0" * 32).decode(),
        registry=REGISTRY,
        reputation=REPUTATION,
    )
    try:
        with pytest.raises(RegistryError) as info:
            await stranger.register_pattern(HASH_A, CID, "code", 1)
        assert "ed25519:" not in str(info.value)  # no key material in the error
        assert ledger.view(REGISTRY, "get_pattern", {"pattern_id": 1}) is None
    finally:
        await stranger.close()


@pytest.mark.asyncio
async def test_local_client_matches_contract_semantics(ledger):
    alice = LocalRegistryClient(ledger, "alice.test")
    bob = LocalRegistryClient(ledger, "bob.test")
    pid = await alice.register_pattern(HASH_A, CID, "code", 10)
    with pytest.raises(RegistryError, match="Insufficient payment"):
        await bob.use_pattern(pid, 9)
    assert (await bob.use_pattern(pid, 10)).creator_share == 10 - 10 * 500 // 10_000
    assert (await bob.get_pattern(pid)).usage_count == 1
    assert await bob.get_pattern_by_hash("f" * 64) is None


def test_decode_status_shapes():
    assert decode_status({"SuccessValue": ""}, "m") is None
    assert decode_status({"SuccessValue": "WzFd"}, "m") == [1]
    failure = {
        "Failure": {
            "ActionError": {
                "index": 0,
                "kind": {"FunctionCallError": {"ExecutionError": "Smart contract panicked: No"}},
            }
        }
    }
    with pytest.raises(RegistryError, match="^No$"):
        decode_status(failure, "m")


@pytest.mark.asyncio
async def test_validator_mirror_reaches_a_remote_network_with_the_configured_key(
    rpc_url, ledger, tmp_path, caplog
):
    """The validator's build_mirror on an RPC URL: py-near signs with the key from settings."""
    from pydantic import SecretStr

    from mycel_subnet.config import NearSettings
    from mycel_subnet.validator.mirror import REWARDS_FILE, build_mirror

    hotkey = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
    key = _key_for(ledger, "carol.test")
    ledger.call("owner.test", REPUTATION, "add_validator", {"account": "carol.test"})
    near = NearSettings(
        network=rpc_url,
        account_id="carol.test",
        private_key=SecretStr(key),
        registry_contract=REGISTRY,
        reputation_contract=REPUTATION,
    )
    mirror = build_mirror(tmp_path, near)
    local, remote = await mirror.record_rewards(7, {hotkey: 0.5, "alice.test": 1.0})
    try:
        assert local == "recorded" and (tmp_path / REWARDS_FILE).exists()
        assert remote.status == "recorded" and remote.recorded == 2
        score = ledger.view(REPUTATION, "get_reputation", {"account": hotkey})
        assert score["last_epoch"] == 7 and score["reward_ema_ppm"] > 0
        assert key not in caplog.text
    finally:
        await mirror.mirrors[1].close()

    keyless = build_mirror(tmp_path, NearSettings(network=rpc_url, account_id="carol.test"))
    assert len(keyless.mirrors) == 1  # local record only, with a warning naming the variable
    assert "MYCEL_NEAR__PRIVATE_KEY" in caplog.text


@pytest.mark.asyncio
async def test_attestation_binding_and_paging_over_rpc(rpc_url, ledger):
    """The new calls through py-near's real signed transactions: the storage deposit attached,
    an attestation, a paged find, a binding request and its confirmation."""
    hotkey = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
    ledger.create_account("val.test", 10 * ONE_NEAR)
    owner, alice, val = (
        _client(rpc_url, ledger, n) for n in ("owner.test", "alice.test", "val.test")
    )
    try:
        before = ledger.balance("alice.test")
        pid = await alice.register_pattern(HASH_A, CID, "code", 10**23)
        deposit = (await alice.get_config()).storage_deposit
        assert ledger.balance("alice.test") == before - deposit and deposit > 0
        await owner.add_attester("val.test")
        attested = await val.attest_pattern(pid, 700_000, True)
        assert (attested.status, attested.attested_quality_ppm) == ("verified", 700_000)
        with pytest.raises(RegistryError, match="^Attested too recently"):
            await val.attest_pattern(pid, 700_000, True)
        page = await alice.find_patterns_page("code", from_index=0)
        assert [p.id for p in page.patterns] == [pid] and page.next_index is None
        await owner.add_validator("val.test")
        request = await alice.bind_hotkey(hotkey, "0x" + "12" * 64)
        assert request.statement.endswith(":alice.test:" + hotkey)
        bound = await val.confirm_binding(hotkey, "alice.test")
        assert (await alice.get_binding(hotkey)).account == bound.account == "alice.test"
        assert (await alice.remove_pattern(pid)).refund == deposit
        assert ledger.balance("alice.test") == before
    finally:
        for client in (owner, alice, val):
            await client.close()
