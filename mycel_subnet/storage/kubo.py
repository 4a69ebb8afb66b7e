"""A ContentStore backed by a kubo daemon through its RPC API (HTTP POST under /api/v0).

ipfshttpclient is not used: its 0.7.0 release refuses every kubo newer than 0.7 in `connect()`.
The RPC API is small and stable, so it is called directly with httpx:
`add?cid-version=1&raw-leaves=true`, `cat?arg=CID&length=N`, `pin/add`, `pin/rm`, `pin/ls`,
`block/stat?offline=true`.

kubo is not trusted blindly: the CID it returns from `add` must equal the one computed locally
(same chunker, same layout), and bytes from `cat` are re-hashed against the CID asked for, so a
misconfigured daemon (another chunker, CIDv0) or a lying gateway is caught at once.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from mycel_subnet.storage.base import DEFAULT_MAX_OBJECT_BYTES, ContentStore
from mycel_subnet.storage.cid import CidVersion, cid_of_same_kind, compute_cid, validate_cid
from mycel_subnet.storage.errors import (
    ContentNotFound,
    ContentTooLarge,
    IntegrityError,
    StorageError,
    StoreUnavailable,
)

_MULTIADDR_RE = re.compile(
    r"^/(ip4|ip6|dns|dns4|dns6)/([^/]+)/tcp/(\d{1,5})(/(http|https))?/?$", re.IGNORECASE
)


def api_base_url(api: str) -> str:
    """Normalise a kubo API address: an http(s) URL or kubo's multiaddr form (/ip4/h/tcp/p)."""
    api = api.strip()
    match = _MULTIADDR_RE.match(api)
    if match:
        proto, host, port, _, scheme = match.groups()
        host = f"[{host}]" if proto.lower() == "ip6" else host
        return f"{(scheme or 'http').lower()}://{host}:{port}"
    parts = urlsplit(api)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"ipfs.api must be an http(s) URL like http://127.0.0.1:5001 or a multiaddr like"
            f" /ip4/127.0.0.1/tcp/5001, not {redact(api)!r}"
        )
    path = parts.path.rstrip("/")
    if path.endswith("/api/v0"):
        path = path[: -len("/api/v0")]
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def redact(url: str) -> str:
    """The URL without credentials, for messages and logs."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        netloc = "***@" + parts.netloc.rsplit("@", 1)[1]
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url


class KuboContentStore(ContentStore):
    """Content stored in, pinned on and read from a kubo daemon."""

    def __init__(
        self,
        api: str,
        *,
        timeout_s: float = 60.0,
        max_object_bytes: int | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        self.base_url = api_base_url(api)
        self.max_object_bytes = max_object_bytes or DEFAULT_MAX_OBJECT_BYTES
        self._shown = redact(self.base_url)
        self._client = httpx.Client(
            base_url=self.base_url + "/api/v0",
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"KuboContentStore({self._shown!r})"

    def close(self) -> None:
        self._client.close()

    # -- HTTP plumbing -------------------------------------------------------------------------

    def _post(self, path: str, params: dict[str, Any], **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.post(path, params=params, **kwargs)
        except httpx.TimeoutException as exc:
            raise StoreUnavailable(
                f"kubo RPC API at {self._shown} did not answer /api/v0/{path} in time ({exc!r})"
            ) from None
        except httpx.TransportError as exc:
            raise StoreUnavailable(
                f"kubo RPC API at {self._shown} is unreachable ({type(exc).__name__}: {exc});"
                " is the daemon running and is ipfs.api right?"
            ) from None
        self._raise_for_status(path, response)
        return response

    def _raise_for_status(self, path: str, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        message = _kubo_message(response)
        if response.status_code in (404, 405):
            raise StorageError(
                f"{self._shown} answered /api/v0/{path} with HTTP {response.status_code}:"
                f" {message} (is ipfs.api the kubo RPC port, usually 5001, not a gateway?)"
            )
        if response.status_code in (401, 403):
            raise StorageError(
                f"kubo at {self._shown} refused /api/v0/{path} (HTTP {response.status_code}):"
                f" {message}; check API.Authorizations and the credentials in ipfs.api"
            )
        raise StorageError(
            f"kubo at {self._shown} failed /api/v0/{path} (HTTP {response.status_code}): {message}"
        )

    def _json(self, path: str, response: httpx.Response) -> Any:
        lines = [ln for ln in response.text.splitlines() if ln.strip()]
        try:
            return json.loads(lines[-1])
        except (IndexError, json.JSONDecodeError):
            raise StorageError(
                f"kubo at {self._shown} answered /api/v0/{path} with non-JSON: "
                f"{response.text[:200]!r}"
            ) from None

    # -- ContentStore --------------------------------------------------------------------------

    def put(self, data: bytes, *, pin: bool = True, cid_version: CidVersion = 1) -> str:
        if len(data) > self.max_object_bytes:
            raise ContentTooLarge(
                f"content of {len(data)} bytes exceeds the limit of {self.max_object_bytes} bytes"
            )
        expected = compute_cid(data, cid_version)
        params = {
            "cid-version": str(cid_version),
            "raw-leaves": "true" if cid_version == 1 else "false",
            "chunker": "size-262144",
            "hash": "sha2-256",
            "pin": "true" if pin else "false",
            "quieter": "true",
        }
        response = self._post("add", params, files={"file": ("blob", data)})
        got = self._json("add", response)
        cid = got.get("Hash") if isinstance(got, dict) else None
        if cid != expected:
            raise IntegrityError(
                f"kubo at {self._shown} stored the content as {cid!r} but it hashes to {expected};"
                " the daemon uses other import settings (chunker, layout or CID version)"
            )
        return expected

    def get(self, cid: str, *, max_size: int | None = None) -> bytes:
        validate_cid(cid)
        limit = self._limit(max_size)
        params = {"arg": cid, "length": str(limit + 1)}
        try:
            with self._client.stream("POST", "cat", params=params) as response:
                if response.status_code >= 400:
                    response.read()
                    if "not found" in _kubo_message(response).lower():
                        raise ContentNotFound(f"kubo at {self._shown} has no content for {cid}")
                    self._raise_for_status("cat", response)
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > limit:
                        raise ContentTooLarge(
                            f"content {cid} from kubo is over the limit of {limit} bytes"
                        )
        except httpx.TimeoutException:
            raise StoreUnavailable(
                f"kubo at {self._shown} did not deliver {cid} in time (it may be searching"
                " the network for it)"
            ) from None
        except httpx.TransportError as exc:
            raise StoreUnavailable(
                f"kubo RPC API at {self._shown} is unreachable ({type(exc).__name__}: {exc})"
            ) from None
        actual = cid_of_same_kind(bytes(data), cid)
        if actual != cid:
            raise IntegrityError(
                f"kubo at {self._shown} served bytes for {cid} that hash to {actual}"
            )
        return bytes(data)

    def has(self, cid: str) -> bool:
        validate_cid(cid)
        try:
            self._post("block/stat", {"arg": cid, "offline": "true"})
        except StoreUnavailable:
            raise
        except StorageError:
            return False
        return True

    def pin(self, cid: str) -> None:
        self._post("pin/add", {"arg": validate_cid(cid), "recursive": "true"})

    def unpin(self, cid: str) -> None:
        try:
            self._post("pin/rm", {"arg": validate_cid(cid), "recursive": "true"})
        except StoreUnavailable:
            raise
        except StorageError as exc:
            if "not pinned" in str(exc):
                raise ContentNotFound(f"cannot unpin {cid}: it is not pinned") from None
            raise

    def pins(self) -> list[str]:
        got = self._json("pin/ls", self._post("pin/ls", {"type": "recursive"}))
        keys = got.get("Keys") if isinstance(got, dict) else None
        if not isinstance(keys, dict):
            raise StorageError(f"kubo at {self._shown} answered pin/ls without a Keys object")
        return sorted(keys)

    def version(self) -> str:
        """The daemon's version string (a cheap reachability check)."""
        got = self._json("version", self._post("version", {}))
        return str(got.get("Version", "unknown")) if isinstance(got, dict) else "unknown"


def _kubo_message(response: httpx.Response) -> str:
    """kubo's error text: the Message field of its JSON error body, else the raw body."""
    try:
        body = response.json()
        if isinstance(body, dict) and body.get("Message"):
            return str(body["Message"])[:500]
    except (json.JSONDecodeError, UnicodeDecodeError):
        pass
    return response.text[:500] or response.reason_phrase
