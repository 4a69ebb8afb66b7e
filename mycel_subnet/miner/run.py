"""Run a miner: take the hotkey lock, check registration, serve, publish once healthy.

Order matters: one process per hotkey (a second one exits 5 before touching the chain), the
cheap chain checks come before the engine is built (loading a model can take minutes), and the
endpoint is published only after the server answers a signed self-query through its own socket
(mycel_subnet.miner.publish), so validators never see an endpoint nobody answers on. A clean stop
withdraws the endpoint again (``miner.withdraw_on_stop``).

With ``miner.registry_sync_s`` > 0 (the default) the miner keeps an index of the NEAR pattern
registry, synced on a thread of its own every that many seconds, and answers search_patterns
from it; an index behind the requested snapshot answers from what it holds and syncs at once.
"""

from __future__ import annotations

import contextlib
import logging
import resource
import signal
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from mycel_subnet.chain.port import ChainPort
from mycel_subnet.chain.types import MetagraphSnapshot
from mycel_subnet.config import MycelSettings
from mycel_subnet.engines.interface import EngineError, MinerEngine
from mycel_subnet.exit_codes import ExitCode
from mycel_subnet.miner.app import build_app
from mycel_subnet.miner.http_server import server_config
from mycel_subnet.miner.limits import ServiceLimits
from mycel_subnet.miner.metagraph_cache import MetagraphCache
from mycel_subnet.miner.metrics import MinerMetrics
from mycel_subnet.miner.publish import EndpointPublisher, loopback_url, self_check
from mycel_subnet.neuron_lock import AlreadyRunning, ProcessLock, miner_lock
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
    publisher: EndpointPublisher | None = None
    registry_sync: Any = None  # a BackgroundSync, started with serve()
    lock: ProcessLock | None = None
    withdraw_on_stop: bool = True
    fatal: tuple[int, str] | None = None

    def stop_with(self, code: int, message: str) -> None:
        """Stop serving because the miner cannot do its job (called from the publisher)."""
        log.error("%s", message)
        self.fatal = (code, message)
        self.server.should_exit = True

    def serve(self) -> int:
        """Block until a signal (or ``server.should_exit``); in-flight requests finish first.

        Returns the exit code: 0 after SIGTERM or a programmatic stop, 130 after SIGINT, the
        publisher's code when the endpoint could never be published.
        """
        if self.publisher is not None:
            self.publisher.start()
        if self.registry_sync is not None:
            self.registry_sync.start()
        try:
            self.server.run(sockets=[self.sock])
        finally:
            self.close()
        if self.fatal is not None:
            return int(self.fatal[0])
        stopped_by = getattr(self.server, "stopped_by", [])
        return int(ExitCode.INTERRUPTED if signal.SIGINT in stopped_by else ExitCode.OK)

    def _withdraw(self) -> None:
        publisher = self.publisher
        if publisher is None:
            return
        publisher.stopping.set()
        if publisher.ident is not None:  # started: serve() ran
            publisher.join(timeout=30)
        if not (publisher.published and self.withdraw_on_stop):
            return
        result = self.chain.reset_axon()
        if result.ok:
            log.info("endpoint %s withdrawn: %s", publisher.endpoint, result.message)
        else:
            log.warning("could not withdraw %s: %s", publisher.endpoint, result.message)

    def close(self) -> None:
        try:
            self._withdraw()
        finally:
            self.publisher = None
            if self.metrics_server is not None:
                self.metrics_server.shutdown()
                self.metrics_server.server_close()
                self.metrics_server = None
            self.cache.stop()
            if self.registry_sync is not None:
                self.registry_sync.stop()
                self.registry_sync = None
            self.chain.close()
            self.sock.close()
            if self.lock is not None:
                self.lock.release()
                self.lock = None


def check_open_files(limits: ServiceLimits) -> None:
    """Raise the soft RLIMIT_NOFILE to what the connection cap needs, or warn in one line."""
    needed = limits.nofile_needed
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft < needed:
        log.warning(
            "open-file limit is %d but miner.max_connections=%d needs %d: raise LimitNOFILE "
            "(systemd) or ulimit -n, or lower --miner.max_connections",
            soft,
            limits.max_connections,
            needed,
        )


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


def registry_search(settings: MycelSettings) -> tuple[Any, Any]:
    """(searcher for build_app, BackgroundSync) from the settings; (None, None) when
    ``miner.registry_sync_s`` is 0 (search_patterns is then answered with an engine error)."""
    m = settings.miner
    if not m.registry_sync_s:
        return None, None
    from mycel_subnet.patterns.registry_sync import (
        BackgroundSync,
        IndexNotReady,
        open_registry_sync,
    )

    try:
        sync = open_registry_sync(m.registry_index, settings.near, settings.ipfs)
    except ValueError as error:  # settings the reader cannot use: serve without search
        log.warning("no registry index: %s; search_patterns will be refused", error)
        return None, None
    background = BackgroundSync(sync, m.registry_sync_s)
    search = background.searcher()

    def searcher(request: Any) -> Any:
        try:
            return search(request)
        except IndexNotReady as error:
            raise EngineError(str(error)) from None

    log.info(
        "registry index %s: NEAR %s %s, every %gs",
        m.registry_index, settings.near.network, settings.near.registry_contract,
        m.registry_sync_s,
    )  # fmt: skip
    return searcher, background


def federated_side(settings: MycelSettings, keypair: Any) -> Any:
    """The federated_round handler (mycel_subnet.federated.miner_side) when ``miner.fl_data``
    names a shard; None otherwise (federated rounds are then answered with an engine error).
    Built before serving: the shard is redacted and tokenised once, the ledger restored."""
    m = settings.miner
    if m.fl_data is None:
        return None
    try:
        import torch

        from mycel_subnet.federated.miner_side import FederatedMinerSide, MinerFlConfig
        from mycel_subnet.storage import open_store
    except ImportError as error:
        raise MinerStartupError(
            ExitCode.UNAVAILABLE, f"federated learning needs torch, peft and opacus: {error}"
        ) from None
    torch.set_num_threads(settings.model.threads)
    state_dir = m.fl_state_dir or Path("~/.mycel/fl") / keypair.ss58_address
    try:
        config = MinerFlConfig(
            m.fl_data, state_dir.expanduser(), m.fl_epsilon_budget, m.fl_base_model,
            behaviour=m.fl_behaviour, copy_from=m.fl_copy_from,
        )  # fmt: skip
        side = FederatedMinerSide(keypair, open_store(settings.ipfs), config)
    except (OSError, ValueError) as error:
        raise MinerStartupError(ExitCode.USAGE, f"federated learning: {error}") from None
    log.info("federated rounds on %s, state in %s", m.fl_data, state_dir)
    return side


def prepare_miner(settings: MycelSettings, *, engine: MinerEngine | None = None) -> MinerRuntime:
    """Do every start-up step and return a runtime ready to ``serve()``; MinerStartupError.

    The runtime holds the hotkey lock from here on; ``serve()`` or ``close()`` releases it.
    """
    chain: ChainPort | None = None
    lock: ProcessLock | None = None
    m = settings.miner
    limits = ServiceLimits.from_settings(m)
    try:
        wallet = open_hotkey_wallet(settings)
        hotkey = wallet.hotkey.ss58_address
        lock = miner_lock(Path(wallet.path).expanduser() / wallet.name, hotkey)
        try:
            lock.acquire()
        except AlreadyRunning as error:
            lock = None
            raise MinerStartupError(ExitCode.LOCKED, str(error)) from None
        check_open_files(limits)
        chain = ChainPort(settings.subtensor.network, settings.netuid, wallet)
        graph, me = registered_neuron(chain, settings, hotkey)
    except StartupError as error:
        if chain is not None:  # shut its event loop down now, not in a finalizer at exit
            chain.close()
        if lock is not None:
            lock.release()
        raise MinerStartupError(error.code, str(error)) from None
    log.info("hotkey %s is uid %d on netuid %d", hotkey, me.uid, settings.netuid)

    try:
        ip, port = _published_endpoint(settings)
        if me.is_serving and me.endpoint != f"{ip}:{port}":
            log.warning(
                "this hotkey's endpoint on chain is %s; it will be replaced by %s:%d once this "
                "miner is healthy (is another miner running with this hotkey elsewhere?)",
                me.endpoint,
                ip,
                port,
            )
        sock = _bind(settings.axon.ip, settings.axon.port)
    except BaseException:
        chain.close()
        lock.release()
        raise
    try:
        engine = engine or _build_engine(settings)

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
            allow=[*m.allow, hotkey],  # the miner's own health check signs with its hotkey
            require_validator_permit=m.require_validator_permit,
            min_stake=m.min_stake,
        )
        searcher, registry_sync = registry_search(settings)
        federated = federated_side(settings, wallet.hotkey)
        app = build_app(
            wallet=wallet,
            engine=engine,
            metagraph=cache,
            policy=policy,
            limits=limits,
            metrics=metrics,
            searcher=searcher,
            federated=federated,
        )
    except BaseException:
        sock.close()
        chain.close()
        lock.release()
        raise
    config = server_config(app, limits, metrics, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
    cache.start()
    log.info(
        "miner serving on %s:%d with engine %s", settings.axon.ip, settings.axon.port, engine.name
    )
    server = GracefulServer(config)
    runtime = MinerRuntime(
        server=server,
        sock=sock,
        cache=cache,
        chain=chain,
        metrics_server=metrics_server,
        lock=lock,
        withdraw_on_stop=m.withdraw_on_stop,
        registry_sync=registry_sync,
    )
    url = loopback_url(settings.axon.ip, settings.axon.port)
    check_s = min(30.0, m.health_timeout_s)
    runtime.publisher = EndpointPublisher(
        started=lambda: server.started,
        check=lambda: self_check(url, wallet, check_s),
        serve_axon=lambda: chain.serve_axon(ip, port),
        endpoint=f"{ip}:{port}",
        health_timeout_s=m.health_timeout_s,
        on_fatal=runtime.stop_with,
    )
    return runtime


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
