"""The miner under hostile clients: a real uvicorn miner on loopback with the entry point's server
config, raw sockets from other loopback addresses (127.0.0.2...) as attackers, and a real signed
validator request from 127.0.0.1 that must still be served."""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass

import httpx

from mycel_subnet.miner.http_server import REFUSAL
from mycel_subnet.miner.limits import ServiceLimits
from protocol import ClaySynapseResponse
from tests.miner.harness import RunningMiner, inference, running_miner

ROUTE = inference().route
HEAD = f"POST {ROUTE} HTTP/1.1\r\nHost: miner\r\nContent-Type: application/json\r\n"


def _limits(**kw) -> ServiceLimits:
    base = {"rate_limit_per_ip": 1000.0, "rate_limit_per_hotkey": 1000.0}
    return ServiceLimits(**{**base, **kw})


def _connect(miner: RunningMiner, source: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", int(miner.url.rsplit(":", 1)[1])))
    return sock


def _closed_by_server(sock: socket.socket, wait_s: float) -> bool:
    """Whether the peer closes (EOF or reset) within ``wait_s``; data before the close is read."""
    sock.settimeout(wait_s)
    try:
        while sock.recv(65536):
            pass
        return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def _closed_count(miner: RunningMiner, reason: str) -> float:
    metric = miner.app.state.service.metrics.connections_closed.labels(reason)
    return metric._value.get()


@dataclass
class Trickle:
    """A client that sends ``payload`` one byte every ``gap_s``; records if the server hung up."""

    sock: socket.socket
    payload: bytes
    gap_s: float = 0.1
    cut_off: bool = False

    def run(self) -> None:
        try:
            for i in range(len(self.payload)):
                self.sock.send(self.payload[i : i + 1])
                time.sleep(self.gap_s)
                self.sock.setblocking(False)
                try:
                    if self.sock.recv(65536) == b"":
                        self.cut_off = True
                        return
                except BlockingIOError:
                    pass
                finally:
                    self.sock.setblocking(True)
        except (ConnectionResetError, BrokenPipeError):
            self.cut_off = True
        finally:
            self.sock.close()


def test_slow_and_idle_clients_are_closed_at_their_deadlines_while_a_validator_is_served(
    keys, cache, caplog
):
    limits = _limits(idle_timeout_s=1.0, header_timeout_s=1.0, body_timeout_s=1.0)
    # At a byte every 0.1 s the header alone would take ~10 s and the body 30 s.
    slow_head = (HEAD + "Content-Length: 2\r\n" + "X-Pad: " + "a" * 40 + "\r\n\r\n{}").encode()
    slow_body = (HEAD + "Content-Length: 300\r\n\r\n").encode()
    with (
        caplog.at_level(logging.DEBUG),
        running_miner(keys.miner, cache=cache, limits=limits) as miner,
        httpx.Client(timeout=10) as client,
    ):
        idle = [_connect(miner, "127.0.0.2") for _ in range(5)]
        heads = [Trickle(_connect(miner, "127.0.0.3"), slow_head) for _ in range(10)]
        bodies = []
        for _ in range(10):
            sock = _connect(miner, "127.0.0.4")
            sock.sendall(slow_body)  # the head at once, then the body a byte at a time
            bodies.append(Trickle(sock, b"x" * 300))
        threads = [threading.Thread(target=t.run) for t in heads + bodies]
        for thread in threads:
            thread.start()
        resp = miner.post(client, keys.validator, inference("served meanwhile"))
        assert resp.status_code == 200
        assert ClaySynapseResponse.model_validate_json(resp.content).status == "ok"
        for thread in threads:
            thread.join(timeout=60)
        assert all(t.cut_off for t in heads), "a slow header outlived its deadline"
        assert all(t.cut_off for t in bodies), "a slow body outlived its deadline"
        assert all(_closed_by_server(s, 5.0) for s in idle), "an idle connection stayed open"
        for s in idle:
            s.close()
        assert _closed_count(miner, "header_timeout") == 10
        assert _closed_count(miner, "body_timeout") == 10
        assert _closed_count(miner, "idle_timeout") == 5
        assert miner.post(client, keys.validator, inference("after")).status_code == 200
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors[0].getMessage()


def _refused_at_once(sock: socket.socket) -> bool:
    sock.settimeout(5.0)  # the idle deadline is 60 s: only a refusal answers in time
    try:
        return sock.recv(len(REFUSAL)).startswith(b"HTTP/1.1 503")
    finally:
        sock.close()


def test_connection_cap_refuses_at_once_and_evicts_for_a_less_busy_address(keys, cache):
    limits = _limits(max_connections=8, max_connections_per_ip=4, idle_timeout_s=60.0)
    with (
        running_miner(keys.miner, cache=cache, limits=limits) as miner,
        httpx.Client(timeout=10, limits=httpx.Limits(max_keepalive_connections=0)) as client,
    ):
        a = [_connect(miner, "127.0.0.2") for _ in range(4)]
        assert _refused_at_once(_connect(miner, "127.0.0.2"))  # per-address cap
        assert miner.post(client, keys.validator, inference()).status_code == 200

        b = [_connect(miner, "127.0.0.3") for _ in range(4)]  # 8 open: the server is full
        time.sleep(0.2)  # let the event loop accept them
        # A newcomer from a quieter address takes the busiest address's oldest idle place...
        c = [_connect(miner, "127.0.0.5")]
        assert _closed_by_server(a[0], 5.0)
        c.append(_connect(miner, "127.0.0.5"))
        assert _closed_by_server(b[0], 5.0)
        # ...until no address holds two more than it: then it is refused at once.
        assert _refused_at_once(_connect(miner, "127.0.0.5"))
        assert _closed_count(miner, "evicted") == 2
        assert _closed_count(miner, "refused") == 2
        # A validator holding no connection is still served while the server is full.
        assert miner.post(client, keys.validator, inference()).status_code == 200
        for sock in a + b + c:
            sock.close()


def test_a_connection_past_its_byte_budget_is_closed(keys, cache):
    limits = _limits(max_body_bytes=1 << 20, max_connection_bytes=64 * 1024, body_timeout_s=60)
    with running_miner(keys.miner, cache=cache, limits=limits) as miner:
        sock = _connect(miner, "127.0.0.2")
        sock.sendall((HEAD + f"Content-Length: {1 << 20}\r\n\r\n").encode())
        try:
            for _ in range(32):  # 128 KiB of body, twice the budget
                sock.sendall(b"x" * 4096)
        except (ConnectionResetError, BrokenPipeError):
            pass
        assert _closed_by_server(sock, 5.0)
        sock.close()
        assert _closed_count(miner, "byte_budget") == 1


def test_client_hang_up_mid_body_is_quiet(keys, cache, caplog):
    with (
        caplog.at_level(logging.DEBUG),
        running_miner(keys.miner, cache=cache, limits=_limits()) as miner,
    ):
        requests = miner.app.state.service.metrics.requests.labels("inference", "client_disconnect")
        for _ in range(3):
            sock = _connect(miner, "127.0.0.2")
            sock.sendall((HEAD + "Content-Length: 500\r\n\r\n").encode() + b"{" * 100)
            time.sleep(0.1)  # the route is reading the body
            sock.close()
        deadline = time.monotonic() + 10
        while requests._value.get() < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert requests._value.get() == 3
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


def test_forwarded_for_rotation_from_loopback_is_still_rate_limited(keys, cache):
    with (
        running_miner(keys.miner, cache=cache, limits=_limits(rate_limit_per_ip=2)) as miner,
        httpx.Client(timeout=10) as client,
    ):
        codes = [
            client.post(
                miner.url + ROUTE, content=b"{}", headers={"X-Forwarded-For": f"203.0.113.{i}"}
            ).status_code
            for i in range(6)
        ]
    assert codes[:2] == [401, 401] and set(codes[2:]) == {429}

    # A configured proxy is trusted: each forwarded address then has its own bucket.
    trusted = _limits(rate_limit_per_ip=2, forwarded_allow_ips=("127.0.0.1",))
    with (
        running_miner(keys.miner, cache=cache, limits=trusted) as miner,
        httpx.Client(timeout=10) as client,
    ):
        codes = [
            client.post(
                miner.url + ROUTE, content=b"{}", headers={"X-Forwarded-For": f"203.0.113.{i}"}
            ).status_code
            for i in range(6)
        ]
    assert set(codes) == {401}


def test_trailing_slash_is_a_404_never_a_redirect(keys, cache):
    with (
        running_miner(keys.miner, cache=cache) as miner,
        httpx.Client(timeout=10, follow_redirects=False) as client,
    ):
        resp = client.post(
            miner.url + ROUTE + "/", content=b"{}", headers={"Host": "attacker.example"}
        )
    assert resp.status_code == 404
    assert "location" not in resp.headers
