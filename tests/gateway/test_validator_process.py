"""The gateway inside the real validator process (`python -m neurons.validator --gateway.enabled`)
on the embedded sim chain, in front of a real miner: it answers once the validator has scored the
miner, the operator's key works, SIGTERM stops both cleanly (exit 0), and a gateway port in use
is one line and exit code 4. HOME is a temporary folder: the local NEAR ledger the gateway's
registry view opens by default stays out of the real home."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from mycel_subnet.chain.port import ChainPort
from mycel_subnet.engines.pattern_engine import PatternEngine
from mycel_subnet.engines.solver import REFERENCE, SolverEngine
from mycel_subnet.gateway.keys import KeyStore
from mycel_subnet.gateway.models import INFERENCE_ROUTE
from tests.miner.harness import free_socket
from tests.validator.servers import miner_app, serve
from tests.validator.test_process import REPO, _argv, _env, _wait_steps

pytestmark = pytest.mark.slow


def _gateway_argv(path, netuid, wallets, state, port: int) -> list[str]:
    extra = [
        "--wandb.mode",
        "disabled",
        "--gateway.enabled",
        "--gateway.port",
        str(port),
        "--validator.step_interval_s",
        "0.5",
    ]
    return _argv(path, netuid, wallets, state, "val", *extra)


def test_the_validator_serves_the_gateway_and_stops_it_cleanly(devnet, tmp_path):
    path, netuid, make_wallet = devnet
    val = make_wallet("val", tao=10)
    assert ChainPort(f"sim:{path}", netuid, val).register().ok
    miner = make_wallet("miner", tao=5)
    miner_chain = ChainPort(f"sim:{path}", netuid, miner)
    assert miner_chain.register().ok
    wallets, state, log = Path(val.path).expanduser(), tmp_path / "state", tmp_path / "val.log"
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    with KeyStore(state / "gateway_keys.sqlite") as keys:  # what `mycel gateway issue` does
        key = keys.issue("instance").key
    env_home = tmp_path / "home"
    env_home.mkdir()
    engine = SolverEngine(REFERENCE, PatternEngine(None, None, use_presidio=False))
    with serve(miner_app(miner, engine, val.hotkey.ss58_address)) as miner_port:
        assert miner_chain.serve_axon("127.0.0.1", miner_port).ok
        proc = subprocess.Popen(
            _gateway_argv(path, netuid, wallets, state, port),
            cwd=REPO,
            env={**_env(), "HOME": str(env_home)},
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_steps(state, 1, proc, log)
            url = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=url, timeout=30) as http:
                health = http.get("/health").json()
                assert health["validator_hotkey"] == val.hotkey.ss58_address
                assert health["miners_available"] == 1
                answer = http.post(
                    INFERENCE_ROUTE,
                    json={"query": "split a bill"},
                    headers={"Authorization": f"Bearer {key}"},
                )
                assert answer.status_code == 200, answer.text
                assert answer.json()["agreement"]["valid"] == 1
                assert http.post(INFERENCE_ROUTE, json={"query": "x"}).status_code == 401

            busy = subprocess.run(
                _argv(
                    path,
                    netuid,
                    wallets,
                    tmp_path / "other",
                    "miner",
                    "--wandb.mode",
                    "disabled",
                    "--gateway.enabled",
                    "--gateway.port",
                    str(port),
                ),
                cwd=REPO,
                env={**_env(), "HOME": str(env_home)},
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert busy.returncode == 4, busy.stderr[-2000:]
            assert f"gateway cannot bind 127.0.0.1:{port}" in busy.stderr
            assert "Traceback" not in busy.stderr

            os.killpg(proc.pid, signal.SIGTERM)
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    text = log.read_text()
    assert "organic gateway listening" in text and "organic gateway stopped" in text
    assert "validator stopped" in text
    with pytest.raises(httpx.ConnectError):  # nothing listens there any more
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
