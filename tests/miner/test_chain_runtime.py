"""The miner against the sim chain through the real SDK: policy from the metagraph, refresh,
an unreachable chain, and the `neurons.miner` process itself (exit codes, ServeAxon, SIGTERM)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from mycel_subnet.chain.port import ChainPort
from mycel_subnet.chain.sim import admin
from mycel_subnet.config import load_settings
from mycel_subnet.exit_codes import ExitCode
from mycel_subnet.miner.metagraph_cache import MetagraphCache
from mycel_subnet.miner.run import MinerStartupError, prepare_miner
from mycel_subnet.transport.policy import CallerPolicy, Refusal
from protocol import ClaySynapseResponse
from tests.miner.harness import ScriptedEngine, inference, running_miner

REPO = Path(__file__).resolve().parents[2]


def _registered(path, netuid, make_wallet, name, stake=0.0) -> ChainPort:
    port = ChainPort(f"sim:{path}", netuid, make_wallet(name, tao=stake + 2))
    assert port.register().ok
    if stake:
        assert port.add_stake(stake).ok
    return port


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _flags(path, netuid, wallet, port: int) -> list[str]:
    return [
        "--subtensor.network", f"sim:{path}",
        "--netuid", str(netuid),
        "--wallet.name", wallet.name,
        "--wallet.hotkey", "hot",
        "--wallet.path", str(Path(wallet.path)),
        "--axon.ip", "127.0.0.1",
        "--axon.external_ip", "127.0.0.1",
        "--axon.port", str(port),
        "--miner.min_stake", "0",
    ]  # fmt: skip


def test_policy_follows_the_chain_and_a_new_permit_is_picked_up(devnet):
    path, netuid, make_wallet = devnet
    miner = _registered(path, netuid, make_wallet, "miner")
    validator = _registered(path, netuid, make_wallet, "val", stake=5.0)
    stranger = make_wallet("stranger", tao=0)
    cache = MetagraphCache(miner.metagraph, refresh_s=3600, miss_refresh_min_s=0.2)
    cache.start()
    try:
        with running_miner(miner.wallet, cache=cache) as m, httpx.Client(timeout=10) as c:
            resp = m.post(c, stranger, inference())
            assert resp.status_code == 403 and resp.json()["error"] == "not_registered"
            resp = m.post(c, validator.wallet, inference())
            assert resp.status_code == 403 and resp.json()["error"] == "no_validator_permit"

            admin.advance_blocks(path, 10)  # an epoch hands out validator permits
            time.sleep(0.3)  # past miss_refresh_min_s: the next refusal may refresh
            # The refusal triggers an early refresh, the new permit is seen, the request served.
            assert m.post(c, validator.wallet, inference()).status_code == 200
        graph = cache.snapshot()
        picky = CallerPolicy(min_stake=1e9).decide(validator.wallet.hotkey.ss58_address, graph)
        assert picky.refusal is Refusal.INSUFFICIENT_STAKE
    finally:
        cache.stop()
        miner.close()


def test_unreachable_chain_keeps_serving_the_last_metagraph(devnet):
    path, netuid, make_wallet = devnet
    miner = _registered(path, netuid, make_wallet, "miner")
    validator = _registered(path, netuid, make_wallet, "val", stake=1.0)
    source = {"port": miner}
    cache = MetagraphCache(lambda: source["port"].metagraph(), refresh_s=3600)
    cache.start()
    good = cache.snapshot()
    assert good.by_hotkey(validator.wallet.hotkey.ss58_address) is not None
    # A real connection failure: nothing listens on this websocket endpoint.
    source["port"] = ChainPort(f"ws://127.0.0.1:{_free_port()}", netuid)
    try:
        assert cache.refresh() is False
        assert "connect" in cache.last_error and cache.snapshot() is good
        policy = CallerPolicy(require_validator_permit=False)
        with (
            running_miner(miner.wallet, cache=cache, policy=policy) as m,
            httpx.Client(timeout=10) as c,
        ):
            assert m.post(c, validator.wallet, inference()).status_code == 200
    finally:
        cache.stop()
        miner.close()


def test_unregistered_hotkey_exits_3_with_a_clear_message(devnet):
    path, netuid, make_wallet = devnet
    wallet = make_wallet("nobody", tao=0)
    result = subprocess.run(
        [sys.executable, "-m", "neurons.miner", *_flags(path, netuid, wallet, _free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert result.returncode == ExitCode.NOT_REGISTERED
    assert "not registered on netuid" in result.stderr and "Traceback" not in result.stderr


def test_startup_refusals_name_the_problem(devnet, tmp_path):
    path, netuid, make_wallet = devnet
    miner = _registered(path, netuid, make_wallet, "miner")
    flags = dict(zip(*[iter(_flags(path, netuid, miner.wallet, _free_port()))] * 2, strict=True))
    cli = {k.removeprefix("--"): v for k, v in flags.items()}

    unroutable = load_settings({**cli, "axon.ip": "0.0.0.0", "axon.external_ip": None})
    with pytest.raises(MinerStartupError) as err:
        prepare_miner(unroutable, engine=ScriptedEngine())
    assert err.value.code == ExitCode.USAGE and "external_ip" in str(err.value)

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = load_settings({**cli, "axon.port": busy.getsockname()[1]})
        with pytest.raises(MinerStartupError) as err:
            prepare_miner(taken, engine=ScriptedEngine())
    assert err.value.code == ExitCode.UNAVAILABLE and "cannot listen" in str(err.value)

    missing = load_settings({**cli, "wallet.path": str(tmp_path / "none")})
    with pytest.raises(MinerStartupError) as err:
        prepare_miner(missing, engine=ScriptedEngine())
    assert err.value.code == ExitCode.USAGE and "hotkey file not found" in str(err.value)
    miner.close()


RUNNER = (
    "import sys; from neurons.miner import main; from tests.miner.harness import ScriptedEngine; "
    "raise SystemExit(main(sys.argv[1:], engine=ScriptedEngine()))"
)


def _wait_endpoint(port: ChainPort, endpoint: str | None, limit_s: float = 30.0) -> bool:
    """Poll the chain until the hotkey's endpoint is ``endpoint`` (None: not serving)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        me = port.metagraph().by_hotkey(port.wallet.hotkey.ss58_address)
        if (me.endpoint if me.is_serving else None) == endpoint:
            return True
        time.sleep(0.1)
    return False


def test_miner_process_publishes_serves_and_drains_on_sigterm(devnet):
    path, netuid, make_wallet = devnet
    miner = _registered(path, netuid, make_wallet, "miner")
    validator = _registered(path, netuid, make_wallet, "val", stake=1.0)
    port = _free_port()
    args = [*_flags(path, netuid, miner.wallet, port), "--no-miner.require_validator_permit"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER, *args],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=10) as c:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if c.get(url + "/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            assert _wait_endpoint(miner, f"127.0.0.1:{port}")  # published once healthy
            admin.advance_blocks(path, 5)  # past the serving rate limit, so it can withdraw

            import concurrent.futures

            from tests.miner.harness import signed

            synapse = inference("sleep:1.5")
            body = synapse.model_dump_json().encode()
            headers = signed(
                validator.wallet, miner.wallet.hotkey.ss58_address, body, synapse.route
            )
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                pending = pool.submit(c.post, url + synapse.route, content=body, headers=headers)
                time.sleep(0.5)
                proc.send_signal(signal.SIGTERM)
                resp = pending.result(timeout=15)
        assert resp.status_code == 200
        assert ClaySynapseResponse.model_validate_json(resp.content).status == "ok"
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        stderr = proc.stderr.read()
        proc.stderr.close()
    assert "miner stopped" in stderr and "Traceback" not in stderr
    me = miner.metagraph().by_hotkey(miner.wallet.hotkey.ss58_address)
    assert not me.is_serving  # a clean stop withdrew the endpoint

    cli = {
        k.removeprefix("--"): v
        for k, v in zip(*[iter(_flags(path, netuid, miner.wallet, port))] * 2, strict=True)
    }
    metrics_port = _free_port()
    settings = load_settings({**cli, "miner.metrics_port": metrics_port})
    runtime = prepare_miner(settings, engine=ScriptedEngine())
    try:
        scrape = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
        block = miner.current_block()
        assert f"mycel_miner_metagraph_block {float(block)}" in scrape
    finally:
        runtime.close()
    miner.close()
