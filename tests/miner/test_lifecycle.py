"""The miner's life on the sim chain: one process per hotkey, the open-file check, and an
endpoint that is published only once the engine answers and withdrawn after a clean stop."""

from __future__ import annotations

import resource
import subprocess
import sys
import threading
import time

import httpx
import pytest

from mycel_subnet.chain.sim import admin
from mycel_subnet.config import load_settings
from mycel_subnet.exit_codes import ExitCode
from mycel_subnet.miner.run import MinerRuntime, prepare_miner
from mycel_subnet.neuron_lock import AlreadyRunning, ProcessLock
from protocol import InferenceRequest, InferenceResult
from tests.miner.harness import ScriptedEngine
from tests.miner.test_chain_runtime import REPO, _flags, _free_port, _registered, _wait_endpoint


class GatedEngine(ScriptedEngine):
    """Every inference waits for ``release``: the engine is still loading."""

    def inference(self, request: InferenceRequest) -> InferenceResult:
        with self._lock:
            self.calls += 1
        self.release.wait(30)
        return InferenceResult(response="ready")


def _settings(path, netuid, wallet, port: int, **extra):
    flags = dict(zip(*[iter(_flags(path, netuid, wallet, port))] * 2, strict=True))
    return load_settings({**{k.removeprefix("--"): v for k, v in flags.items()}, **extra})


def _serve_in_thread(runtime: MinerRuntime) -> tuple[threading.Thread, list[int]]:
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(runtime.serve()))
    thread.start()
    return thread, codes


def _wait(predicate, limit_s: float = 30.0) -> bool:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_endpoint_is_published_after_the_health_check_and_withdrawn_on_stop(devnet):
    path, netuid, make_wallet = devnet
    chain = _registered(path, netuid, make_wallet, "miner")
    port = _free_port()
    engine = GatedEngine()
    runtime = prepare_miner(_settings(path, netuid, chain.wallet, port), engine=engine)
    thread, codes = _serve_in_thread(runtime)
    try:
        assert _wait(lambda: runtime.server.started)
        with httpx.Client(timeout=5) as client:
            assert client.get(f"http://127.0.0.1:{port}/health").status_code == 200
        assert _wait(lambda: engine.calls >= 1)  # the self-query reached the engine, which waits
        me = chain.metagraph().by_hotkey(chain.wallet.hotkey.ss58_address)
        assert not me.is_serving, "published before the engine answered"
        engine.release.set()
        assert _wait_endpoint(chain, f"127.0.0.1:{port}")
        admin.advance_blocks(path, 5)  # past the serving rate limit, so it can withdraw
    finally:
        engine.release.set()
        runtime.server.should_exit = True
        thread.join(timeout=60)
    assert codes == [0]
    assert _wait_endpoint(chain, None, limit_s=1.0), "the endpoint was not withdrawn"
    chain.close()


def test_an_engine_that_never_answers_is_never_published_and_exits_4(devnet):
    path, netuid, make_wallet = devnet
    chain = _registered(path, netuid, make_wallet, "miner")
    settings = _settings(path, netuid, chain.wallet, _free_port(), **{"miner.health_timeout_s": 1})
    engine = GatedEngine()
    runtime = prepare_miner(settings, engine=engine)
    thread, codes = _serve_in_thread(runtime)
    thread.join(timeout=60)
    engine.release.set()
    assert codes == [ExitCode.UNAVAILABLE]
    assert not chain.metagraph().by_hotkey(chain.wallet.hotkey.ss58_address).is_serving
    chain.close()


def test_a_second_miner_on_the_same_hotkey_exits_5(devnet):
    path, netuid, make_wallet = devnet
    chain = _registered(path, netuid, make_wallet, "miner")
    first = prepare_miner(_settings(path, netuid, chain.wallet, _free_port()), engine=GatedEngine())
    flags = _flags(path, netuid, chain.wallet, _free_port())
    argv = [sys.executable, "-m", "neurons.miner", *flags]
    try:
        second = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
        )
    finally:
        first.close()
    assert second.returncode == ExitCode.LOCKED, second.stderr[-2000:]
    assert "another miner" in second.stderr and "already runs with this hotkey" in second.stderr
    assert "Traceback" not in second.stderr
    # Released on close: the same hotkey can start again.
    again = prepare_miner(_settings(path, netuid, chain.wallet, _free_port()), engine=GatedEngine())
    again.close()
    chain.close()


def test_process_lock_is_exclusive_and_names_the_holder(tmp_path):
    paths = [tmp_path / "a.lock", tmp_path / "b.lock"]
    with ProcessLock(paths, role="validator"):
        with pytest.raises(AlreadyRunning, match=r"another validator \(pid \d+\)"):
            ProcessLock([paths[1]]).acquire()
        taken = ProcessLock([tmp_path / "c.lock", paths[0]])
        with pytest.raises(AlreadyRunning):
            taken.acquire()
        assert taken._fds == []  # what it took before the refusal was given back
    ProcessLock(paths).acquire()


def _low_nofile() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (300, 300))


def test_an_open_file_limit_below_the_connection_cap_warns_in_one_line(devnet):
    path, netuid, make_wallet = devnet
    wallet = make_wallet("nobody", tao=0)  # unregistered: the miner stops right after the check
    result = subprocess.run(
        [sys.executable, "-m", "neurons.miner", *_flags(path, netuid, wallet, _free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        preexec_fn=_low_nofile,
    )
    assert result.returncode == ExitCode.NOT_REGISTERED
    lines = [line for line in result.stderr.splitlines() if "open-file limit" in line]
    assert len(lines) == 1 and "is 300" in lines[0] and "max_connections=512" in lines[0]
    assert "LimitNOFILE" in lines[0]
