"""RegistryClient: how the subnet talks to PatternRegistry and ReputationSystem.

Two implementations of one async interface: LocalRegistryClient runs the calls on the local
ledger (the embedded default), NearRpcRegistryClient sends them to a real NEAR RPC with py-near.
Contract refusals surface as RegistryError carrying the contract's panic message.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mycel_subnet.near.host import ContractPanic
from mycel_subnet.near.ledger import DEFAULT_REGISTRY, DEFAULT_REPUTATION, LedgerError, LocalLedger
from mycel_subnet.near.models import PatternEntry, ReputationScore, RewardsRecorded, UseReceipt

TGAS = 10**12
DEFAULT_GAS = 100 * TGAS
PANIC_PREFIX = "Smart contract panicked: "


class RegistryError(Exception):
    """A registry/reputation call failed; `message` is the contract's panic text if it had one."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RegistryClient(ABC):
    """Typed calls to the two Mycel contracts, whatever chain they live on."""

    def __init__(self, account_id: str, registry: str, reputation: str) -> None:
        self.account_id = account_id
        self.registry = registry
        self.reputation = reputation

    @abstractmethod
    async def _call(
        self, contract: str, method: str, args: dict[str, Any], deposit: int = 0
    ) -> Any: ...

    @abstractmethod
    async def _view(self, contract: str, method: str, args: dict[str, Any]) -> Any: ...

    async def close(self) -> None:
        """Release connections (no-op for the ledger)."""
        return None

    async def register_pattern(
        self, pattern_hash: str, metadata_cid: str, domain: str, price_per_use: int
    ) -> int:
        args = {
            "pattern_hash": pattern_hash,
            "metadata_cid": metadata_cid,
            "domain": domain,
            "price_per_use": str(price_per_use),
        }
        return int(await self._call(self.registry, "register_pattern", args))

    async def get_pattern(self, pattern_id: int) -> PatternEntry | None:
        found = await self._view(self.registry, "get_pattern", {"pattern_id": pattern_id})
        return None if found is None else PatternEntry.model_validate(found)

    async def get_pattern_by_hash(self, pattern_hash: str) -> PatternEntry | None:
        found = await self._view(
            self.registry, "get_pattern_by_hash", {"pattern_hash": pattern_hash}
        )
        return None if found is None else PatternEntry.model_validate(found)

    async def use_pattern(self, pattern_id: int, payment: int) -> UseReceipt:
        """Pay `payment` yoctoNEAR for one use (95% to the creator by default)."""
        out = await self._call(self.registry, "use_pattern", {"pattern_id": pattern_id}, payment)
        return UseReceipt.model_validate(out)

    async def rate_pattern(self, pattern_id: int, success: bool, rating: int) -> PatternEntry:
        args = {"pattern_id": pattern_id, "success": success, "rating": rating}
        return PatternEntry.model_validate(await self._call(self.registry, "rate_pattern", args))

    async def find_patterns(
        self, domain: str, min_reputation: float = 0.0, limit: int = 20
    ) -> list[PatternEntry]:
        args = {"domain": domain, "min_reputation": min_reputation, "limit": limit}
        found = await self._view(self.registry, "find_patterns", args)
        return [PatternEntry.model_validate(p) for p in found]

    async def get_reputation(self, account: str) -> ReputationScore:
        found = await self._view(self.reputation, "get_reputation", {"account": account})
        return ReputationScore.model_validate(found)

    async def record_validator_rewards(
        self, epoch: int, entries: Mapping[str, int]
    ) -> RewardsRecorded:
        """Mirror one weight-setting: subject -> reward score in ppm (0..1_000_000)."""
        args = {"epoch": epoch, "entries": dict(entries)}
        out = await self._call(self.reputation, "record_validator_rewards", args)
        return RewardsRecorded.model_validate(out)


class LocalRegistryClient(RegistryClient):
    """Calls signed as `account_id` on a LocalLedger (run in a worker thread: SQLite may wait)."""

    def __init__(
        self,
        ledger: LocalLedger,
        account_id: str,
        *,
        registry: str = DEFAULT_REGISTRY,
        reputation: str = DEFAULT_REPUTATION,
    ) -> None:
        super().__init__(account_id, registry, reputation)
        self.ledger = ledger

    async def _call(
        self, contract: str, method: str, args: dict[str, Any], deposit: int = 0
    ) -> Any:
        try:
            outcome = await asyncio.to_thread(
                self.ledger.call, self.account_id, contract, method, args, deposit
            )
        except (ContractPanic, LedgerError) as exc:
            raise RegistryError(getattr(exc, "message", str(exc))) from exc
        return outcome.result

    async def _view(self, contract: str, method: str, args: dict[str, Any]) -> Any:
        try:
            return await asyncio.to_thread(self.ledger.view, contract, method, args)
        except (ContractPanic, LedgerError) as exc:
            raise RegistryError(getattr(exc, "message", str(exc))) from exc


class NearRpcRegistryClient(RegistryClient):
    """Calls through py-near to a NEAR JSON-RPC endpoint. The private key is kept only inside
    py-near's Account and never appears in repr, logs or errors."""

    def __init__(
        self,
        rpc_url: str,
        account_id: str,
        private_key: str,
        *,
        registry: str,
        reputation: str,
        gas: int = DEFAULT_GAS,
    ) -> None:
        from py_near.account import Account  # optional at import time of the package

        super().__init__(account_id, registry, reputation)
        self.rpc_url = rpc_url
        self.gas = gas
        self._account = Account(account_id, private_key, rpc_url)
        self._started = False
        self._start_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"NearRpcRegistryClient(account_id={self.account_id!r}, rpc_url={self.rpc_url!r})"

    async def _ensure_started(self) -> None:
        async with self._start_lock:
            if not self._started:
                await self._account.startup()
                self._started = True

    async def close(self) -> None:
        # py-near opens its HTTP session before startup() can fail: shut it down either way.
        with contextlib.suppress(Exception):
            await self._account.shutdown()
        self._started = False

    async def _call(
        self, contract: str, method: str, args: dict[str, Any], deposit: int = 0
    ) -> Any:
        await self._ensure_started()
        try:
            result = await self._account.function_call(
                contract, method, args, gas=self.gas, amount=deposit
            )
        except Exception as exc:  # py-near raises provider errors of many types
            # RPC errors echo the transaction, never the secret key (it is not sent).
            detail = str(exc)[:300]
            raise RegistryError(
                f"{method} on {contract} failed: {type(exc).__name__}: {detail}"
            ) from exc
        return decode_status(result.status, method)

    async def _view(self, contract: str, method: str, args: dict[str, Any]) -> Any:
        await self._ensure_started()
        try:
            found = await self._account.view_function(contract, method, args)
        except Exception as exc:
            raise RegistryError(panic_message(str(exc))) from exc
        return found.result


def panic_message(text: str) -> str:
    """The contract's own words from a NEAR error text, else the text itself."""
    if PANIC_PREFIX in text:
        return text.split(PANIC_PREFIX, 1)[1].rstrip("'\"}) ")
    return text


def decode_status(status: dict[str, Any], method: str) -> Any:
    """Turn a final execution status into the method's JSON result or a RegistryError."""
    if "SuccessValue" in status:
        raw = base64.b64decode(status["SuccessValue"] or "")
        return json.loads(raw) if raw else None
    failure = status.get("Failure")
    if failure is not None:
        kind = failure.get("ActionError", {}).get("kind", {})
        error = kind.get("FunctionCallError", {}).get("ExecutionError")
        raise RegistryError(panic_message(error) if error else f"{method} failed: {kind}")
    raise RegistryError(f"{method}: unexpected status {status}")


RPC_URLS = {
    "testnet": "https://rpc.testnet.near.org",
    "mainnet": "https://rpc.mainnet.near.org",
}
DEFAULT_LEDGER_PATH = Path("~/.mycel/near/ledger.db")


def make_registry_client(
    network: str,
    account_id: str,
    *,
    registry: str = DEFAULT_REGISTRY,
    reputation: str = DEFAULT_REPUTATION,
    ledger_path: Path = DEFAULT_LEDGER_PATH,
    private_key: str | None = None,
) -> RegistryClient:
    """A client for `network` ("local", "testnet", "mainnet" or an RPC URL).

    "local" opens (or creates) the ledger file, deploys both contracts on first use with
    `account_id` as their owner, and creates that account. The other networks need the
    account's ed25519 secret key ("ed25519:..."), which is handed to py-near and kept nowhere else.
    """
    if network == "local":
        ledger = LocalLedger(ledger_path.expanduser())
        ledger.ensure_mycel_contracts(account_id, registry=registry, reputation=reputation)
        ledger.create_account(account_id)
        return LocalRegistryClient(ledger, account_id, registry=registry, reputation=reputation)
    rpc_url = RPC_URLS.get(network, network)
    if not rpc_url.startswith(("http://", "https://")):
        raise ValueError(
            f"near network must be local, testnet, mainnet or an http(s) URL: {network}"
        )
    if not private_key:
        raise ValueError(f"near network {network} needs the account's private key (ed25519:...)")
    return NearRpcRegistryClient(
        rpc_url, account_id, private_key, registry=registry, reputation=reputation
    )
