"""Assemble a gateway from the settings and what the validator already has: its wallet, its last
metagraph read, its score store (read only) and a view of the pattern registry.

The gateway is handed callables, never the validator: it imports nothing from
mycel_subnet.validator, and the validator's neuron (validator/run.py) starts and stops it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from mycel_subnet.chain.types import MetagraphSnapshot
from mycel_subnet.config import GatewaySettings, NearSettings
from mycel_subnet.gateway.app import build_gateway_app
from mycel_subnet.gateway.auth import Authenticator
from mycel_subnet.gateway.directory import MinerDirectory
from mycel_subnet.gateway.keys import KEYS_FILE, KeyStore
from mycel_subnet.gateway.registry import CachedRegistryView, RegistryView
from mycel_subnet.gateway.server import GatewayServer
from mycel_subnet.gateway.service import GatewayLimits, GatewayService
from mycel_subnet.transport.server_auth import RequestVerifier

log = logging.getLogger("mycel.gateway")
VIEW_ACCOUNT = "gateway.mycel.test"  # the local ledger's views need an account name, no key


class ScoreSource(Protocol):
    """What the gateway reads from the validator's score store."""

    def scores(self) -> dict[int, float]: ...

    def hotkeys(self) -> dict[int, str]: ...


def scores_by_hotkey(store: ScoreSource) -> Callable[[], Mapping[str, float]]:
    """hotkey -> moving-average score, so a uid re-registered by someone else scores nothing."""

    def read() -> Mapping[str, float]:
        hotkeys = store.hotkeys()
        return {hotkeys[uid]: s for uid, s in store.scores().items() if uid in hotkeys}

    return read


def keys_path(gateway: GatewaySettings, state_dir: Path) -> Path:
    return Path(gateway.keys_file or Path(state_dir) / KEYS_FILE).expanduser()


def registry_view(near: NearSettings, ledger_path: Path | None = None) -> RegistryView | None:
    """The validator's own registry view from the NEAR settings; None (search off) when it
    cannot have one: a remote network needs the account and its key for py-near."""
    from mycel_subnet.near.client import (
        DEFAULT_LEDGER_PATH,
        LocalRegistryClient,
        make_registry_client,
    )

    if near.network == "local":
        from mycel_subnet.near.ledger import LocalLedger

        ledger = LocalLedger(Path(ledger_path or DEFAULT_LEDGER_PATH).expanduser())
        client = LocalRegistryClient(
            ledger, near.account_id or VIEW_ACCOUNT, registry=near.registry_contract,
            reputation=near.reputation_contract,
        )  # fmt: skip
        return CachedRegistryView(client)
    key = near.private_key.get_secret_value() if near.private_key else None
    if not near.account_id or not key:
        log.warning("gateway pattern search is off: NEAR %s needs --near.account_id and "
                    "MYCEL_NEAR__PRIVATE_KEY for registry reads", near.network)  # fmt: skip
        return None
    client = make_registry_client(
        near.network, near.account_id, private_key=key, registry=near.registry_contract,
        reputation=near.reputation_contract,
    )  # fmt: skip
    return CachedRegistryView(client)


@dataclass
class Gateway:
    service: GatewayService
    app: Any
    server: GatewayServer
    keys: KeyStore

    async def start(self) -> None:
        await self.server.start()

    async def stop(self) -> None:
        await self.server.stop()
        await self.service.aclose()
        self.keys.close()


def build_gateway(
    settings: GatewaySettings,
    *,
    wallet: Any,
    graph: Callable[[], MetagraphSnapshot | None],
    scores: Callable[[], Mapping[str, float]],
    state_dir: Path,
    registry: RegistryView | None,
    timeout_s: float,
    max_response_bytes: int = 1_048_576,
    port: int | None = None,
) -> Gateway:
    """Everything the gateway needs, not started yet (`await gateway.start()`); `port`
    overrides the settings' (0: any free port, for tests)."""
    hotkey = wallet.hotkey.ss58_address
    keys = KeyStore(keys_path(settings, state_dir))
    auth = Authenticator(keys, RequestVerifier(hotkey), graph,
                         allow_registered=settings.allow_registered)  # fmt: skip
    directory = MinerDirectory(
        graph, scores, hotkey, fanout=settings.fanout, miner_rate=settings.miner_rate,
        bench_s=settings.bench_s,
    )  # fmt: skip
    limits = GatewayLimits(
        max_body_bytes=settings.max_body_bytes, rate_limit_per_ip=settings.rate_limit_per_ip,
        rate_limit_per_caller=settings.rate_limit_per_caller,
        burst_per_caller=settings.burst_per_caller, max_in_flight=settings.max_in_flight,
        timeout_s=timeout_s, max_response_bytes=max_response_bytes,
        min_support=settings.min_support,
    )  # fmt: skip
    service = GatewayService(wallet=wallet, authenticator=auth, directory=directory, graph=graph,
                             registry=registry, limits=limits)  # fmt: skip
    app = build_gateway_app(service)
    server = GatewayServer(app, settings.host, settings.port if port is None else port,
                           forwarded_allow_ips=settings.forwarded_allow_ips)  # fmt: skip
    return Gateway(service, app, server, keys)
