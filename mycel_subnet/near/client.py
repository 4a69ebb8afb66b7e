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

from pydantic import ValidationError

from mycel_subnet.near.host import ContractPanic
from mycel_subnet.near.ledger import (
    DEFAULT_FL_ROUNDS,
    DEFAULT_REGISTRY,
    DEFAULT_REPUTATION,
    LedgerError,
    LocalLedger,
)
from mycel_subnet.near.models import (
    Attestation,
    Binding,
    BindingRequest,
    CreatorStanding,
    PatternEntry,
    PatternPage,
    RegistryConfig,
    RemovedPattern,
    ReputationScore,
    RewardsRecorded,
    U128Value,
    UseReceipt,
)

TGAS = 10**12
DEFAULT_GAS = 100 * TGAS
PANIC_PREFIX = "Smart contract panicked: "
MAX_FIND_LIMIT = 100  # the registry's bound on one find_patterns page
MAX_FIND_PAGES = 64  # 1000 patterns per domain: about 14 pages at most; more means a bad RPC
# Discovery's default floor: below the 0.25 a creator without history starts at, so new
# creators' new patterns are found, and a good creator's new pattern (it starts at the
# creator's standing) always is; patterns rated down below it are not.
DEFAULT_MIN_REPUTATION = 0.2


class RegistryError(Exception):
    """A registry/reputation call failed; `message` is the contract's panic text if it had one."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _parse(model: Any, value: Any, method: str) -> Any:
    """A contract answer as its model; a malformed one (a bad RPC) is a RegistryError."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(root)"
        raise RegistryError(
            f"{method} answered a bad {model.__name__}: {where}: {first['msg']}"
        ) from None


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

    async def get_config(self) -> RegistryConfig:
        """The registry's configuration: fee rate, owner and `next_id` (one past the last id)."""
        found = await self._view(self.registry, "get_config", {})
        try:
            return RegistryConfig.model_validate(found)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(root)"
            raise RegistryError(
                f"get_config on {self.registry} answered a bad config: {where}: {first['msg']}"
            ) from None

    async def register_pattern(
        self,
        pattern_hash: str,
        metadata_cid: str,
        domain: str,
        price_per_use: int,
        *,
        deposit: int | None = None,
    ) -> int:
        """Register a pattern, attaching the registry's storage deposit (read from its config
        unless `deposit` is given); remove_pattern sends the deposit back."""
        if deposit is None:
            deposit = (await self.get_config()).storage_deposit
        args = {
            "pattern_hash": pattern_hash,
            "metadata_cid": metadata_cid,
            "domain": domain,
            "price_per_use": str(price_per_use),
        }
        return int(await self._call(self.registry, "register_pattern", args, deposit))

    async def remove_pattern(self, pattern_id: int) -> RemovedPattern:
        """The creator withdraws its pattern; the storage deposit comes back."""
        out = await self._call(self.registry, "remove_pattern", {"pattern_id": pattern_id})
        return _parse(RemovedPattern, out, "remove_pattern")

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

    async def find_patterns_page(
        self,
        domain: str,
        min_reputation: float = 0.0,
        limit: int = MAX_FIND_LIMIT,
        from_index: int = 0,
    ) -> PatternPage:
        """One page of the registry's find_patterns: at most `limit` matches among the next
        patterns of the domain from position `from_index`, in the domain's order."""
        args = {
            "domain": domain,
            "min_reputation": min_reputation,
            "limit": limit,
            "from_index": from_index,
        }
        found = await self._view(self.registry, "find_patterns", args)
        page = _parse(PatternPage, found, "find_patterns")
        if page.next_index is not None and page.next_index <= from_index:
            raise RegistryError(
                f"find_patterns on {self.registry} did not advance past index {from_index}"
            )
        return page

    async def find_patterns(
        self, domain: str, min_reputation: float = DEFAULT_MIN_REPUTATION, limit: int = 20
    ) -> list[PatternEntry]:
        """The `limit` best patterns of a domain with reputation >= min_reputation, best first
        (ties by id): every page of the domain read, then ranked here."""
        found: list[PatternEntry] = []
        start: int | None = 0
        pages = 0
        while start is not None:
            if pages == MAX_FIND_PAGES:
                raise RegistryError(
                    f"find_patterns on {self.registry}: more than {MAX_FIND_PAGES} pages"
                )
            page = await self.find_patterns_page(domain, min_reputation, MAX_FIND_LIMIT, start)
            found.extend(page.patterns)
            start, pages = page.next_index, pages + 1
        found.sort(key=lambda p: (-p.reputation_ppm, p.id))
        return found[:limit]

    async def get_creator(self, account: str) -> CreatorStanding:
        """A creator's standing on the registry (where its next new pattern starts)."""
        found = await self._view(self.registry, "get_creator", {"account": account})
        return _parse(CreatorStanding, found, "get_creator")

    async def get_reputation(self, account: str) -> ReputationScore:
        found = await self._view(self.reputation, "get_reputation", {"account": account})
        return ReputationScore.model_validate(found)

    async def record_validator_rewards(
        self, epoch: int, entries: Mapping[str, int], part: int = 0
    ) -> RewardsRecorded:
        """Mirror one weight-setting: subject -> reward score in ppm (0..1_000_000), at most
        128 per call; a larger mirror is sent as parts 0, 1, ... of one epoch (NearRewardMirror
        splits it)."""
        args: dict[str, Any] = {"epoch": epoch, "entries": dict(entries)}
        if part:
            args["part"] = part
        out = await self._call(self.reputation, "record_validator_rewards", args)
        return RewardsRecorded.model_validate(out)

    # ----- money out: payouts of failed transfers, the owner's fees ----------------------------

    async def get_payout(self, account: str | None = None) -> int:
        """yoctoNEAR the registry owes `account` (this one by default) after a failed transfer."""
        args = {"account": account or self.account_id}
        found = await self._view(self.registry, "get_payout", args)
        return _parse(U128Value, {"value": found}, "get_payout").value

    async def withdraw_payout(self) -> int:
        """Have the registry send what it owes this account; returns the amount."""
        return int(await self._call(self.registry, "withdraw_payout", {}))

    async def withdraw_fees(self) -> int:
        """The owner collects the protocol fees; returns the amount."""
        return int(await self._call(self.registry, "withdraw_fees", {}))

    async def set_policy(
        self,
        *,
        storage_deposit: int | None = None,
        rating_weight_cap: int | None = None,
        attest_interval_ns: int | None = None,
    ) -> RegistryConfig:
        """The owner sets the storage deposit, the payment that gives a rating full weight and
        the least time between two attestations of a pattern by one attester."""
        args: dict[str, Any] = {}
        if storage_deposit is not None:
            args["storage_deposit"] = str(storage_deposit)
        if rating_weight_cap is not None:
            args["rating_weight_cap"] = str(rating_weight_cap)
        if attest_interval_ns is not None:
            args["attest_interval_ns"] = attest_interval_ns
        out = await self._call(self.registry, "set_policy", args)
        return _parse(RegistryConfig, out, "set_policy")

    # ----- attestation (validators' NEAR accounts) --------------------------------------------

    async def add_attester(self, account: str) -> RegistryConfig:
        """The registry owner allows `account` (a validator's NEAR account) to attest."""
        out = await self._call(self.registry, "add_attester", {"account": account})
        return _parse(RegistryConfig, out, "add_attester")

    async def remove_attester(self, account: str) -> RegistryConfig:
        out = await self._call(self.registry, "remove_attester", {"account": account})
        return _parse(RegistryConfig, out, "remove_attester")

    async def attest_pattern(
        self, pattern_id: int, quality_ppm: int, safe: bool, reason: str = ""
    ) -> PatternEntry:
        """This attester's verdict on a pattern (quality 0..1_000_000 ppm; unsafe needs a
        reason, up to 200 printable ASCII characters). Rate-limited per (attester, pattern)."""
        args = {
            "pattern_id": pattern_id,
            "quality_ppm": quality_ppm,
            "safe": safe,
            "reason": reason,
        }
        return _parse(
            PatternEntry, await self._call(self.registry, "attest_pattern", args), "attest"
        )

    async def get_attestations(self, pattern_id: int) -> list[Attestation]:
        found = await self._view(self.registry, "get_attestations", {"pattern_id": pattern_id})
        if not isinstance(found, list):
            raise RegistryError(f"get_attestations on {self.registry} answered a non-list")
        return [_parse(Attestation, a, "get_attestations") for a in found]

    # ----- hotkey binding (the reputation contract) -------------------------------------------

    async def add_validator(self, account: str) -> dict[str, Any]:
        """The reputation owner allows `account` to mirror rewards and confirm bindings."""
        return dict(await self._call(self.reputation, "add_validator", {"account": account}))

    async def remove_validator(self, account: str) -> dict[str, Any]:
        return dict(await self._call(self.reputation, "remove_validator", {"account": account}))

    async def bind_hotkey(self, hotkey: str, signature: str) -> BindingRequest:
        """Ask to bind this NEAR account to `hotkey`; `signature` is the hotkey's sr25519
        signature (hex) of "mycel-bind:v1:<this account>:<hotkey>". A validator verifies it
        off-chain and confirms (the contract cannot check sr25519)."""
        args = {"hotkey": hotkey, "signature": signature}
        return _parse(
            BindingRequest, await self._call(self.reputation, "bind_hotkey", args), "bind"
        )

    async def confirm_binding(self, hotkey: str, account: str) -> Binding:
        """A validator that verified the request's signature binds `hotkey` to `account`."""
        args = {"hotkey": hotkey, "account": account}
        out = await self._call(self.reputation, "confirm_binding", args)
        return _parse(Binding, out, "confirm_binding")

    async def reject_binding(self, hotkey: str, account: str) -> None:
        """A validator drops a request whose signature did not verify."""
        await self._call(self.reputation, "reject_binding", {"hotkey": hotkey, "account": account})

    async def unbind_hotkey(self, hotkey: str) -> None:
        """The bound account gives its binding up."""
        await self._call(self.reputation, "unbind_hotkey", {"hotkey": hotkey})

    async def get_binding(self, hotkey: str) -> Binding:
        found = await self._view(self.reputation, "get_binding", {"hotkey": hotkey})
        return _parse(Binding, found, "get_binding")

    async def record_fl_round(
        self, record: Mapping[str, Any], *, contract: str = DEFAULT_FL_ROUNDS
    ) -> dict[str, Any]:
        """Record one federated round on the FlRounds contract (contracts/fl_rounds); this
        account must be its owner or an allow-listed coordinator."""
        return dict(await self._call(contract, "record_round", dict(record)))

    async def get_fl_round(
        self, coordinator: str, round_no: int, *, contract: str = DEFAULT_FL_ROUNDS
    ) -> dict[str, Any] | None:
        """A coordinator's recorded round, or None."""
        args = {"coordinator": coordinator, "round": round_no}
        return await self._view(contract, "get_round", args)


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
    py-near's Account and never appears in repr, logs or errors; without one the client can
    only read (views), and every call fails with a RegistryError."""

    def __init__(
        self,
        rpc_url: str,
        account_id: str,
        private_key: str | None,
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


READER_ACCOUNT = "reader.mycel.test"


class LocalLedgerReader(RegistryClient):
    """Views on the local ledger file, opened at the first view and only if it exists: a reader
    never creates a ledger (or an account, or a contract) where there is none."""

    def __init__(self, path: Path, account_id: str, *, registry: str, reputation: str) -> None:
        super().__init__(account_id, registry, reputation)
        self.path = Path(path).expanduser()
        self._client: LocalRegistryClient | None = None

    async def _call(
        self, contract: str, method: str, args: dict[str, Any], deposit: int = 0
    ) -> Any:
        raise RegistryError(f"{method}: this registry client only reads")

    async def _view(self, contract: str, method: str, args: dict[str, Any]) -> Any:
        if self._client is None:
            if not self.path.is_file():
                raise RegistryError(f"no local NEAR ledger at {self.path} (nothing registered)")
            ledger = LocalLedger(self.path)
            self._client = LocalRegistryClient(
                ledger, self.account_id, registry=self.registry, reputation=self.reputation
            )
        return await self._client._view(contract, method, args)

    async def close(self) -> None:
        if self._client is not None:
            self._client.ledger.close()
            self._client = None


def make_registry_reader(
    network: str,
    *,
    registry: str = DEFAULT_REGISTRY,
    reputation: str = DEFAULT_REPUTATION,
    ledger_path: Path = DEFAULT_LEDGER_PATH,
    account_id: str | None = None,
) -> RegistryClient:
    """A client for the registry's views only: no key, no account, nothing created or deployed.

    What an index of the registry needs (a miner has no NEAR account of its own). On "local"
    it reads the ledger file once it exists; until the registry is deployed there every view
    fails with a RegistryError naming what is missing.
    """
    reader = account_id or READER_ACCOUNT
    if network == "local":
        return LocalLedgerReader(ledger_path, reader, registry=registry, reputation=reputation)
    rpc_url = RPC_URLS.get(network, network)
    if not rpc_url.startswith(("http://", "https://")):
        raise ValueError(
            f"near network must be local, testnet, mainnet or an http(s) URL: {network}"
        )
    return NearRpcRegistryClient(rpc_url, reader, None, registry=registry, reputation=reputation)
