"""Publish the miner's endpoint only once it answers, and keep trying until the chain takes it.

The health check is a real signed self-query: an inference request signed by the miner's own
hotkey, sent over loopback to the listening socket, through the whole path a validator's request
takes (server, btauth, policy, admission, engine thread, response signature). A warm-up flag
would only say the engine was built; this says a validator would get an answer.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from bittensor import http_auth

from mycel_subnet.chain.types import ChainErrorKind, ChainResult
from mycel_subnet.exit_codes import ExitCode
from mycel_subnet.transport.response_signing import ResponseSignatureError, verify_response
from protocol import ClaySynapse, ClaySynapseResponse, InferenceRequest, ProtocolError, parse_model

log = logging.getLogger("mycel.miner")

HEALTH_QUERY = "mycel miner health check"
RETRY_S = 1.0
PUBLISH_RETRY_S = 12.0  # about a block: the serving rate limit is counted in blocks


def loopback_url(bind_host: str, port: int) -> str:
    """Where the miner reaches its own socket: loopback for a wildcard bind."""
    host = bind_host
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ipaddress.ip_address(host).version == 6:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def self_check(url: str, wallet: Any, timeout_s: float) -> str | None:
    """None when a signed self-query gets a verified answer from the engine; else why not."""
    hotkey = wallet.hotkey.ss58_address
    synapse = ClaySynapse(deadline_s=timeout_s, request=InferenceRequest(query=HEALTH_QUERY))
    body = synapse.model_dump_json().encode()
    headers = http_auth.sign(
        wallet.hotkey, method="POST", path=synapse.route, body=body, receiver_ss58=hotkey
    )
    headers["Content-Type"] = "application/json"
    try:
        with httpx.Client(timeout=timeout_s + 5.0) as client:
            resp = client.post(url + synapse.route, content=body, headers=headers)
    except httpx.HTTPError as error:
        return f"no answer ({type(error).__name__})"
    if resp.status_code != 200:
        return f"HTTP {resp.status_code}"
    try:
        verify_response(
            resp.headers,
            resp.content,
            path=synapse.route,
            request_nonce_ns=int(headers["X-Bittensor-Nonce"]),
            miner_ss58=hotkey,
            validator_ss58=hotkey,
            max_age_s=timeout_s + 10.0,
        )
        answer = parse_model(ClaySynapseResponse, resp.content)
    except (ResponseSignatureError, ProtocolError) as error:
        return f"bad answer: {error}"
    # An engine that declines (EngineError) still answered; a deadline or a crash did not.
    if answer.status == "ok" or (answer.detail or "").startswith("engine error"):
        return None
    return answer.detail or "error answer"


class EndpointPublisher(threading.Thread):
    """Waits for the server, then the self-check, then ServeAxon, retrying what can pass.

    ``on_fatal(code, message)`` is called when publishing can never succeed (the engine never
    answers, the hotkey is not registered); the runtime then stops the server with ``code``.
    """

    def __init__(
        self,
        *,
        started: Callable[[], bool],
        check: Callable[[], str | None],
        serve_axon: Callable[[], ChainResult],
        endpoint: str,
        health_timeout_s: float,
        on_fatal: Callable[[int, str], None],
    ) -> None:
        super().__init__(name="publisher", daemon=True)
        self._server_up = started
        self._check = check
        self._serve_axon = serve_axon
        self.endpoint = endpoint
        self.health_timeout_s = health_timeout_s
        self._on_fatal = on_fatal
        self.stopping = threading.Event()
        self.published = False
        self.healthy = False

    def run(self) -> None:
        deadline = time.monotonic() + self.health_timeout_s
        while not self._server_up():
            if self.stopping.wait(0.05):
                return
        reason = "not checked"
        while not self.stopping.is_set():
            reason = self._check() or ""
            if not reason:
                break
            if time.monotonic() > deadline:
                self._on_fatal(
                    ExitCode.UNAVAILABLE,
                    f"the engine did not answer its health check within "
                    f"{self.health_timeout_s:g}s ({reason}); endpoint not published",
                )
                return
            log.debug("health check: %s", reason)
            self.stopping.wait(RETRY_S)
        if self.stopping.is_set():
            return
        self.healthy = True
        log.info("health check passed: publishing %s", self.endpoint)
        warned = False
        while not self.stopping.is_set():
            served = self._serve_axon()
            if served.ok:
                self.published = True
                log.info("endpoint %s: %s", self.endpoint, served.message)
                return
            if served.error is ChainErrorKind.NOT_REGISTERED:
                self._on_fatal(ExitCode.NOT_REGISTERED, served.message)
                return
            if not warned:  # rate limit or an unreachable chain: both pass with time
                log.warning(
                    "could not publish %s yet (%s); retrying every %gs",
                    self.endpoint,
                    served.message,
                    PUBLISH_RETRY_S,
                )
                warned = True
            self.stopping.wait(PUBLISH_RETRY_S)
