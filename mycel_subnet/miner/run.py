"""Run a miner: check registration, publish the endpoint, serve until SIGTERM/SIGINT.

Order matters: the cheap chain checks come before the engine is built (loading a model can take
minutes), and the listening socket is bound before the endpoint is published, so a busy port is
a clear error rather than a published endpoint nobody answers on.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn

from mycel_subnet.chain.port import ChainPort
from mycel_subnet.chain.types import ChainErrorKind, MetagraphSnapshot
from mycel_subnet.cli.exit_codes import ExitCode
from mycel_subnet.config import MycelSettings
from mycel_subnet.engines.interface import EngineError, MinerEngine
from mycel_subnet.miner.app import build_app
from mycel_subnet.miner.limits import ServiceLimits
from mycel_subnet.miner.metagraph_cache import MetagraphCache
from mycel_subnet.miner.metrics import MinerMetrics
from mycel_subnet.neuron_startup import StartupError, open_hotkey_wallet, registered_neuron
from mycel_subnet.transport.policy import CallerPolicy

log = logging.getLogger("mycel.miner")

GRACEFUL_SHUTDOWN_S = 130.0  # longer than the longest deadline a validator may give


class MinerStartupError(StartupError):
    """The miner cannot start; ``code`` is the exit code, the message says why and what to do."""


class GracefulServer(uvicorn.Server):
    """uvicorn's server, minus re-raising the stop signal after the drain.

    uvicorn stops accepting on SIGTERM/SIGINT, lets in-flight requests finish, then re-raises
    the signal, which would kill the process before the miner's own cleanup and exit code.
    """

    stopped_by: list[int]

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        self.stopped_by = []
        with super().capture_signals():
            try:
                yield
            finally:
                self.stopped_by = list(self._captured_signals)
                self._captured_signals.clear()


@dataclass
class MinerRuntime:
    """Everything a running miner holds, so tests and the entry point can stop it cleanly."""

    server: GracefulServer
    sock: socket.socket
    cache: MetagraphCache
    chain: ChainPort
    metrics_server: Any = None

    def serve(self) -> int:
        """Block until a signal (or ``server.should_exit``); in-flight requests finish first.

        Returns the exit code: 0 after SIGTERM or a programmatic stop, 130 after SIGINT.
        """
        try:
            self.server.run(sockets=[self.sock])
        finally:
            self.close()
        stopped_by = getattr(self.server, "stopped_by", [])
        return int(ExitCode.INTERRUPTED if signal.SIGINT in stopped_by else ExitCode.OK)

    def close(self) -> None:
        if self.metrics_server is not None:
            self.metrics_server.shutdown()
            self.metrics_server.server_close()
            self.metrics_server = None
        self.cache.stop()
        self.chain.close()
        self.sock.close()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise MinerStartupError(
            ExitCode.UNAVAILABLE, f"cannot listen on {host}:{port}: {error.strerror or error}"
        ) from None
    sock.set_inheritable(True)
    return sock


def _published_endpoint(settings: MycelSettings) -> tuple[str, int]:
    axon = settings.axon
    ip = axon.external_ip or axon.ip
    if ip in ("0.0.0.0", "::", ""):
        raise MinerStartupError(
            ExitCode.USAGE,
            f"--axon.ip is {axon.ip}, which validators cannot dial: set --axon.external_ip to "
            "this node's public address",
        )
    return ip, axon.external_port or axon.port


def _build_engine(settings: MycelSettings) -> MinerEngine:
    try:
        from mycel_subnet.engines.factory import build_engine
    except ImportError as error:
        raise MinerStartupError(
            ExitCode.UNAVAILABLE, f"miner engines are not installed: {error}"
        ) from None
    try:
        return build_engine(settings)
    except EngineError as error:  # e.g. no model can be loaded for "llm"
        raise MinerStartupError(ExitCode.UNAVAILABLE, f"engine: {error}") from None


def prepare_miner(settings: MycelSettings, *, engine: MinerEngine | None = None) -> MinerRuntime:
    """Do every start-up step and return a runtime ready to ``serve()``; MinerStartupError."""
    chain: ChainPort | None = None
    try:
        wallet = open_hotkey_wallet(settings)
        hotkey = wallet.hotkey.ss58_address
        chain = ChainPort(settings.subtensor.network, settings.netuid, wallet)
        graph, me = registered_neuron(chain, settings, hotkey)
    except StartupError as error:
        if chain is not None:  # shut its event loop down now, not in a finalizer at exit
            chain.close()
        raise MinerStartupError(error.code, str(error)) from None
    log.info("hotkey %s is uid %d on netuid %d", hotkey, me.uid, settings.netuid)

    ip, port = _published_endpoint(settings)
    sock = _bind(settings.axon.ip, settings.axon.port)
    try:
        served = chain.serve_axon(ip, port)
        if served.ok:
            log.info("endpoint %s:%d: %s", ip, port, served.message)
        elif served.error is ChainErrorKind.NOT_REGISTERED:
            raise MinerStartupError(ExitCode.NOT_REGISTERED, served.message)
        elif served.error is ChainErrorKind.UNREACHABLE:
            raise MinerStartupError(ExitCode.UNAVAILABLE, served.message)
        else:  # e.g. the serving rate limit: the endpoint published before stays in place
            log.warning("could not publish %s:%d yet: %s", ip, port, served.message)

        engine = engine or _build_engine(settings)
        m = settings.miner

        def fetch() -> MetagraphSnapshot:
            fresh = chain.metagraph()
            if fresh.by_hotkey(hotkey) is None:
                log.error(
                    "hotkey %s is no longer registered on netuid %d (deregistered?); still "
                    "serving, but this miner earns nothing until it registers again",
                    hotkey,
                    settings.netuid,
                )
            return fresh

        cache = MetagraphCache(
            fetch,
            refresh_s=m.metagraph_refresh_s,
            miss_refresh_min_s=min(5.0, m.metagraph_refresh_s),
            initial=graph,
        )
        metrics = MinerMetrics()
        metrics_server = None
        if m.metrics_port is not None:
            try:
                metrics_server = metrics.serve(m.metrics_host, m.metrics_port)
            except OSError as error:
                raise MinerStartupError(
                    ExitCode.UNAVAILABLE,
                    f"cannot serve metrics on {m.metrics_host}:{m.metrics_port}: "
                    f"{error.strerror or error}",
                ) from None
            log.info("metrics on http://%s:%d/metrics", m.metrics_host, m.metrics_port)
        policy = CallerPolicy(
            deny=m.deny,
            allow=m.allow,
            require_validator_permit=m.require_validator_permit,
            min_stake=m.min_stake,
        )
        app = build_app(
            wallet=wallet,
            engine=engine,
            metagraph=cache,
            policy=policy,
            limits=ServiceLimits.from_settings(m),
            metrics=metrics,
        )
    except BaseException:
        sock.close()
        chain.close()
        raise
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        server_header=False,  # the health route says nothing about the software either
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        timeout_keep_alive=30,
    )
    cache.start()
    log.info(
        "miner serving on %s:%d with engine %s", settings.axon.ip, settings.axon.port, engine.name
    )
    return MinerRuntime(
        server=GracefulServer(config),
        sock=sock,
        cache=cache,
        chain=chain,
        metrics_server=metrics_server,
    )


def run_miner(settings: MycelSettings, *, engine: MinerEngine | None = None) -> int:
    """Start and serve; returns the exit code (start-up failures print one clear line)."""
    try:
        runtime = prepare_miner(settings, engine=engine)
    except MinerStartupError as error:
        log.error("%s", error)
        return int(error.code)
    code = runtime.serve()
    log.info("miner stopped")
    return code
