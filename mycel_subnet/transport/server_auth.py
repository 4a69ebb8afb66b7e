"""Server side of btauth/1: verify a request against this miner's hotkey, with replay memory.

The nonce store keeps entries for longer than the freshness window (the SDK refuses a store
whose retention is shorter), so a replay inside the window is always caught.
"""

from __future__ import annotations

from collections.abc import Mapping

from bittensor import http_auth

AUTH_ERROR_CODES: dict[type[http_auth.AuthError], str] = {
    http_auth.MalformedAuth: "malformed_auth",
    http_auth.WrongReceiver: "wrong_receiver",
    http_auth.StaleRequest: "stale_request",
    http_auth.BadSignature: "bad_signature",
    http_auth.ReplayedRequest: "replayed_request",
}


def auth_error_code(error: http_auth.AuthError) -> str:
    for cls, code in AUTH_ERROR_CODES.items():
        if isinstance(error, cls):
            return code
    return "unauthenticated"


class RequestVerifier:
    """Verifies signed requests addressed to ``hotkey_ss58``; one per server process."""

    def __init__(
        self,
        hotkey_ss58: str,
        *,
        max_age_s: float = http_auth.DEFAULT_MAX_AGE,
        allowed_skew_s: float = http_auth.DEFAULT_ALLOWED_SKEW,
    ) -> None:
        self.hotkey_ss58 = hotkey_ss58
        self.max_age_s = max_age_s
        self.allowed_skew_s = allowed_skew_s
        self.nonces = http_auth.InMemoryNonceStore(retention=max_age_s + allowed_skew_s + 5.0)

    def verify(
        self, headers: Mapping[str, str], body: bytes, *, method: str, target: str
    ) -> http_auth.Caller:
        """The caller, or raises ``http_auth.AuthError`` (safe to show the caller)."""
        return http_auth.verify(
            headers,
            body,
            method=method,
            path=target,
            self_hotkey_ss58=self.hotkey_ss58,
            max_age=self.max_age_s,
            allowed_skew=self.allowed_skew_s,
            nonce_store=self.nonces,
        )
