"""A Mycel OS instance finds a pattern through the gateway and buys it.

Alice publishes a pattern in a domain Bob's instance never searches by itself; the subnet's
miners index the registry (stand-in searchers over what was registered), the validator's gateway
checks their ids on the registry, and Bob's `mycel pattern find --gateway.url ...` (and its local
API) shows the pattern with source "gateway". Bob verifies it on his own registry and by hash,
then pays for one use. Everything runs for real: the local NEAR ledger, the content store, the
MiniLM embedder from its wheel, uvicorn servers on loopback.
"""

from __future__ import annotations

import asyncio
import json
import os

import httpx
import pytest

from mycel_subnet.cli.main import main
from mycel_subnet.collective import Instance, InstanceConfig, find, publish, use
from mycel_subnet.collective.api import create_app
from mycel_subnet.config import IpfsSettings, NearSettings
from mycel_subnet.gateway.client import GatewayClient
from protocol import LearnedPattern
from tests.gateway.harness import (
    HonestEngine,
    HonestSearcher,
    MinerSpec,
    gateway_running,
    running_subnet,
)
from tests.validator.servers import serve

pytestmark = pytest.mark.slow
os.environ.setdefault("HF_HUB_OFFLINE", "1")
ALICE, BOB = "alice.mycel.test", "bob.mycel.test"
PRICE = 7 * 10**21
QUERY = "how do I sharpen a chisel for woodworking"


def _pattern() -> LearnedPattern:
    return LearnedPattern.model_validate_json(
        json.dumps(
            {
                "trigger": "sharpen a woodworking chisel on a whetstone",
                "domain": "woodworking",
                "creator": ALICE,
                "created_at": "2026-12-01T10:00:00Z",
                "solution": {
                    "kind": "prompt_template",
                    "template": "Hold the {tool} at {angle} degrees and push it along the stone.",
                    "variables": ["tool", "angle"],
                },
            }
        )
    )


def _config(root, account: str) -> InstanceConfig:
    return InstanceConfig(
        home=root / account,
        near=NearSettings(account_id=account),
        ipfs=IpfsSettings(store_dir=root / "ipfs"),
        ledger_path=root / "ledger.db",
    )


async def _publish(config: InstanceConfig) -> tuple[str, int]:
    instance = Instance(config)
    try:
        pattern = _pattern()
        await asyncio.to_thread(instance.pattern_store().put, pattern)
        out = await publish(instance, str(pattern.id), str(PRICE))
        return out.pattern_id, out.near_id
    finally:
        await instance.aclose()


async def _find_and_use(config: InstanceConfig, client: GatewayClient | None):
    instance = Instance(config)
    try:
        found = await find(instance, QUERY, k=5, gateway=client)
        used = None
        if found.patterns and client is not None:
            used = await use(
                instance, str(found.patterns[0].near_id), {"tool": "chisel", "angle": "25"}
            )
        return found, used
    finally:
        await instance.aclose()


def test_an_instance_finds_and_buys_a_pattern_through_the_gateway(tmp_path, monkeypatch, capsys):
    import torch

    torch.set_num_threads(1)
    index: list[tuple[str, str, str]] = []
    specs = [
        MinerSpec("m1", 0.6, engine=HonestEngine(), searcher=HonestSearcher(index)),
        MinerSpec("m2", 0.5, engine=HonestEngine(), searcher=HonestSearcher(index)),
    ]
    with running_subnet(tmp_path, specs) as net:  # its ledger is the instances' ledger
        pattern_id, near_id = asyncio.run(_publish(_config(tmp_path, ALICE)))
        index.append(("woodworking", _pattern().trigger, pattern_id))  # the miners' sync
        gateway = net.build()
        key = gateway.keys.issue("bob instance").key
        with gateway_running(gateway) as url:
            alone, _ = asyncio.run(_find_and_use(_config(tmp_path, BOB), None))
            assert pattern_id not in {p.pattern_id for p in alone.patterns}  # not by itself

            found, used = asyncio.run(
                _find_and_use(_config(tmp_path, BOB), GatewayClient(url, key))
            )
            top = found.patterns[0]
            assert (top.pattern_id, top.near_id, top.source) == (pattern_id, near_id, "gateway")
            assert used.paid == PRICE and used.verified and "chisel" in str(used.output)
            assert all(s.queries for s in (specs[0].searcher, specs[1].searcher))

            # the CLI: key from the environment only, the source shown
            monkeypatch.setenv("MYCEL_GATEWAY__API_KEY", key)
            argv = [
                "pattern",
                "find",
                QUERY,
                "--home",
                str(tmp_path / BOB),
                "--near.account_id",
                BOB,
                "--ledger",
                str(tmp_path / "ledger.db"),
                "--ipfs.store_dir",
                str(tmp_path / "ipfs"),
                "--gateway.url",
                url,
            ]
            assert main([*argv, "--json"]) == 0
            out = json.loads(capsys.readouterr().out)
            assert out["patterns"][0]["pattern_id"] == pattern_id
            assert out["patterns"][0]["source"].endswith("gateway")
            assert key not in json.dumps(out)

            # the local API, configured with the same gateway
            app = create_app(_config(tmp_path, BOB), GatewayClient(url, key))
            with serve(app) as port, httpx.Client(timeout=120) as http:
                api = http.post(
                    f"http://127.0.0.1:{port}/patterns/find", json={"query": QUERY, "k": 3}
                ).json()
            assert api["patterns"][0]["pattern_id"] == pattern_id
            assert api["patterns"][0]["source"].endswith("gateway")

            monkeypatch.delenv("MYCEL_GATEWAY__API_KEY")
            assert main(argv) == 2
            assert "MYCEL_GATEWAY__API_KEY" in capsys.readouterr().err


def test_a_gateway_that_fails_is_a_warning_not_a_failed_find(tmp_path):
    from tests.miner.harness import free_socket

    sock = free_socket()  # bound, not listening
    dead = GatewayClient(f"http://127.0.0.1:{sock.getsockname()[1]}", "mgw_x")
    found, _ = asyncio.run(_find_and_use(_config(tmp_path, BOB), dead))
    assert any("gateway not used" in w and "unreachable" in w for w in found.warnings)
    assert "mgw_x" not in " ".join(found.warnings)
    sock.close()
