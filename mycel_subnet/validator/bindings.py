"""Hotkey -> NEAR account bindings, as the validator sees them: it confirms the pending ones
whose signature it verified, and remembers which are confirmed.

A miner operator binds with `mycel near bind`: the NEAR account itself submits
`bind_hotkey(hotkey, signature)`, the signature being the hotkey's sr25519 signature of
`binding_statement(account, hotkey)` (mycel_subnet.chain.binding). The contract cannot check
sr25519, so before mirroring rewards the validator looks up the bindings of the hotkeys it
rewards, verifies each pending request's signature here, confirms the newest valid one
(`confirm_binding`) and rejects the rest (`reject_binding`: a bad signature, or superseded),
so no request is verified twice. The contract then credits a confirmed-bound hotkey's rewards
to its account. Lookups are bounded per round; a hotkey is looked up again after `recheck_s`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from mycel_subnet.chain.binding import binding_signature_ok

log = logging.getLogger(__name__)

RECHECK_S = 600.0
MAX_LOOKUPS = 64


class BindingRegistry(Protocol):
    async def get_binding(self, hotkey: str) -> Any: ...

    async def confirm_binding(self, hotkey: str, account: str) -> Any: ...

    async def reject_binding(self, hotkey: str, account: str) -> Any: ...


@dataclass(frozen=True)
class Request:
    """A pending bind_hotkey request: the account that sent it and the signature it carries."""

    account: str
    signature: str
    requested_at: int = 0


@dataclass(frozen=True)
class BindingState:
    """A hotkey's confirmed account (None when unbound) and its pending requests."""

    hotkey: str
    account: str | None
    requests: tuple[Request, ...] = ()


def _field(found: Any, name: str) -> Any:
    if isinstance(found, dict):
        return found.get(name)
    return getattr(found, name, None)


def parse_binding(hotkey: str, found: Any) -> BindingState:
    """The contract's get_binding answer (a dict or a model) as a BindingState."""
    if found is None:
        return BindingState(hotkey, None)
    account = _field(found, "account")
    requests = []
    for raw in _field(found, "requests") or ():
        who, sig = _field(raw, "account"), _field(raw, "signature")
        if isinstance(who, str) and isinstance(sig, str):
            requests.append(Request(who, sig, int(_field(raw, "requested_at") or 0)))
    return BindingState(hotkey, account if isinstance(account, str) and account else None,
                        tuple(requests))  # fmt: skip


class BindingBook:
    """The validator's view of bindings; `refresh` settles requests, `account_of` answers."""

    def __init__(
        self,
        registry: BindingRegistry,
        *,
        recheck_s: float = RECHECK_S,
        max_lookups: int = MAX_LOOKUPS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.registry = registry
        self.recheck_s = recheck_s
        self.max_lookups = max_lookups
        self.clock = clock
        self._seen: dict[str, tuple[str | None, float]] = {}

    def account_of(self, hotkey: str) -> str | None:
        """The account a hotkey is confirmed-bound to, as last seen; None otherwise."""
        seen = self._seen.get(hotkey)
        return None if seen is None else seen[0]

    def _due(self, hotkey: str, now: float) -> bool:
        seen = self._seen.get(hotkey)
        return seen is None or now - seen[1] >= self.recheck_s

    async def refresh(self, hotkeys: Iterable[str]) -> list[str]:
        """Look up (at most `max_lookups`) due hotkeys and settle their pending requests: the
        newest one whose signature verifies is confirmed, every other one rejected. Returns one
        line per request settled. Registry trouble is logged, never raised."""
        now = self.clock()
        notes: list[str] = []
        due = [h for h in dict.fromkeys(hotkeys) if self._due(h, now)][: self.max_lookups]
        for hotkey in due:
            try:
                state = parse_binding(hotkey, await self.registry.get_binding(hotkey))
                account = await self._settle(state, notes)
            except Exception as error:  # a NEAR outage: try again next round
                log.warning("binding lookup for %s failed: %s", hotkey, _one_line(error))
                break
            self._seen[hotkey] = (account, now)
        return notes

    async def _settle(self, state: BindingState, notes: list[str]) -> str | None:
        hotkey, account = state.hotkey, state.account
        valid = [r for r in state.requests if binding_signature_ok(r.account, hotkey, r.signature)]
        chosen = max(valid, key=lambda r: r.requested_at, default=None)
        for request in state.requests:
            if request is chosen:
                continue
            why = "superseded by a newer request" if request in valid else "bad signature"
            await self.registry.reject_binding(hotkey, request.account)
            line = f"binding of {hotkey} to {request.account} rejected: {why}"
            log.warning("%s", line)
            notes.append(line)
        if chosen is not None:
            await self.registry.confirm_binding(hotkey, chosen.account)
            account = chosen.account
            line = f"binding of {hotkey} to {account} confirmed (signature verified)"
            log.info("%s", line)
            notes.append(line)
        return account


def _one_line(error: BaseException) -> str:
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    return " ".join(str(text).split())[:300]
