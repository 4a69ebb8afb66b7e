"""Who is calling the gateway: an API key the operator issued, or a btauth/1 signed request.

`Authorization: Bearer mgw_...` is checked against the key store (hash only). Otherwise the
request must carry btauth/1 headers addressed to the validator's hotkey (the receiver stops a
request signed for another server from being replayed here), and the signer must be registered
on the subnet (when `allow_registered`) or allowed by the operator (`mycel gateway allow`). An
operator entry that was revoked refuses that hotkey even when it is registered.

Every refusal is (status, code, one-line detail) naming what is missing or wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bittensor import http_auth

from mycel_subnet.chain.types import MetagraphSnapshot
from mycel_subnet.gateway.keys import KeyStore
from mycel_subnet.transport.server_auth import RequestVerifier, auth_error_code

_BTAUTH_HEADERS = tuple(
    h.lower() for h in (http_auth.HEADER_HOTKEY, http_auth.HEADER_SIGNATURE, http_auth.HEADER_NONCE)
)


@dataclass(frozen=True)
class Caller:
    """An authenticated caller; `id` keys its rate limit ("key:<id>" or "hotkey:<ss58>")."""

    id: str
    kind: str  # "api_key" | "hotkey"
    name: str


class AuthRefused(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


class Authenticator:
    def __init__(
        self,
        keys: KeyStore,
        verifier: RequestVerifier,
        graph: Callable[[], MetagraphSnapshot | None],
        *,
        allow_registered: bool = True,
    ) -> None:
        self.keys = keys
        self.verifier = verifier
        self.graph = graph
        self.allow_registered = allow_registered

    def authenticate(
        self, headers: Mapping[str, str], body: bytes, *, method: str, target: str
    ) -> Caller:
        """The caller, or raises AuthRefused."""
        authorization = headers.get("authorization")
        if authorization is not None:
            return self._api_key(authorization)
        if any(h in headers for h in _BTAUTH_HEADERS):
            return self._signed(headers, body, method, target)
        raise AuthRefused(
            401,
            "missing_credentials",
            "send 'Authorization: Bearer <API key>' or a btauth/1 signed request (X-Bittensor-* "
            f"headers) addressed to receiver {self.verifier.hotkey_ss58}",
        )

    def _api_key(self, authorization: str) -> Caller:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthRefused(
                401, "malformed_authorization", "the Authorization header must be 'Bearer <key>'"
            )
        check = self.keys.check_api_key(token.strip())
        if not check.ok:
            raise AuthRefused(401, check.code, check.detail)
        credential = check.credential
        assert credential is not None
        return Caller(f"key:{credential.id}", "api_key", credential.name)

    def _signed(self, headers: Mapping[str, str], body: bytes, method: str, target: str) -> Caller:
        try:
            who = self.verifier.verify(headers, body, method=method, target=target)
        except http_auth.AuthError as error:
            raise AuthRefused(401, auth_error_code(error), str(error)) from None
        hotkey = who.hotkey_ss58
        entry = self.keys.allowed_hotkey(hotkey)
        if entry is not None and entry.revoked:
            raise AuthRefused(403, "revoked_hotkey", "the operator revoked this hotkey's access")
        if entry is not None:
            return Caller(f"hotkey:{hotkey}", "hotkey", entry.name)
        graph = self.graph()
        if self.allow_registered and graph is not None and graph.by_hotkey(hotkey) is not None:
            return Caller(f"hotkey:{hotkey}", "hotkey", "registered")
        if self.allow_registered and graph is None:
            detail = "the validator has not read the metagraph yet; try again shortly"
        elif self.allow_registered:
            detail = (
                f"hotkey is not registered on subnet {graph.netuid} nor allowed by the operator"
            )
        else:
            detail = "this gateway serves only hotkeys its operator allowed"
        raise AuthRefused(403, "not_allowed", detail)
