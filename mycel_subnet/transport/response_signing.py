"""Signed miner responses, so a validator can prove what a miner answered.

The miner signs its response body with btauth/1 (bittensor.http_auth), reusing the request's
nonce: the signed payload binds the miner's hotkey, the validator's hotkey (receiver), the route,
the exact response bytes and the request nonce. The method is the fixed word ``RESPONSE`` so a
signed response can never be replayed as a signed request. Verification checks that the nonce is
the one the validator sent, so a response cannot be moved to another request either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bittensor import http_auth

RESPONSE_METHOD = "RESPONSE"
HEADER_RESPONSE_PREFIX = "X-Mycel-Response-"
# The response headers carry the same btauth fields under their own prefix, so proxies or
# frameworks that echo request headers can never be mistaken for the miner's signature.
_FIELDS = ("Version", "Hotkey", "Receiver", "Nonce", "Crypto", "Signature")


class ResponseSignatureError(ValueError):
    """A miner's response signature is missing, malformed, or does not verify."""


@dataclass(frozen=True)
class SignedBy:
    """Who signed a verified response and for which request nonce."""

    hotkey_ss58: str
    nonce_ns: int


def _to_response_headers(headers: dict[str, str]) -> dict[str, str]:
    out = {}
    for key, value in headers.items():
        field = key.removeprefix("X-Bittensor-")
        out[HEADER_RESPONSE_PREFIX + field] = value
    return out


def _from_response_headers(headers: Any) -> dict[str, str]:
    out = {}
    for field in _FIELDS:
        value = headers.get(HEADER_RESPONSE_PREFIX + field)
        if value is not None:
            out["X-Bittensor-" + field] = value
    return out


def sign_response(
    wallet: Any, *, path: str, body: bytes, request_nonce_ns: int, validator_ss58: str
) -> dict[str, str]:
    """Headers to attach to a response: the miner's hotkey signature over ``body``."""
    headers = http_auth.sign(
        wallet,
        method=RESPONSE_METHOD,
        path=path,
        body=body,
        receiver_ss58=validator_ss58,
        nonce_ns=request_nonce_ns,
    )
    return _to_response_headers(headers)


def verify_response(
    headers: Any,
    body: bytes,
    *,
    path: str,
    request_nonce_ns: int,
    miner_ss58: str,
    validator_ss58: str,
    max_age_s: float = 120.0,
) -> SignedBy:
    """Check a response came from ``miner_ss58`` for this request; raise ResponseSignatureError.

    ``max_age_s`` must cover the request's deadline: the nonce was minted when the request was
    signed, not when the response was.
    """
    auth_headers = _from_response_headers(headers)
    if not auth_headers:
        raise ResponseSignatureError("response is not signed (no X-Mycel-Response-* headers)")
    try:
        caller = http_auth.verify(
            auth_headers,
            body,
            method=RESPONSE_METHOD,
            path=path,
            self_hotkey_ss58=validator_ss58,
            max_age=max_age_s,
            nonce_store=http_auth.InMemoryNonceStore(retention=max_age_s + 10.0),
        )
    except http_auth.AuthError as error:
        raise ResponseSignatureError(f"response signature: {error}") from None
    if caller.hotkey_ss58 != miner_ss58:
        raise ResponseSignatureError("response was signed by a different hotkey than the miner's")
    if caller.nonce_ns != int(request_nonce_ns):
        raise ResponseSignatureError("response is bound to a different request nonce")
    return SignedBy(hotkey_ss58=caller.hotkey_ss58, nonce_ns=caller.nonce_ns)
