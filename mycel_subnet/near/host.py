"""CPython host for the contract logic in contracts/: the env interface the logic calls.

near-sdk-py has no working CPython mock (its panic does nothing outside WASM), so this host is
the project's own: it answers the context questions (predecessor, deposit, block time), keeps
storage in any str->str mapping, records transfers, promises and logs instead of sending them,
and turns a panic into a typed `ContractPanic` carrying the contract's message.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

CONTRACT_KINDS = {
    "pattern_registry": "registry_logic.py",
    "reputation": "reputation_logic.py",
    "fl_rounds": "fl_rounds_logic.py",
}


class ContractPanic(Exception):
    """The contract refused the call; `message` is the contract's own panic text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class TransferRecord:
    """A NEAR transfer the contract asked for (a promise batch with one Transfer action)."""

    receiver: str
    amount: int


@dataclass(frozen=True)
class PromiseRecord:
    """A cross-contract call the contract scheduled; on NEAR it runs in a later receipt."""

    receiver: str
    method: str
    args: dict[str, Any]
    deposit: int
    gas: int
    # A callback (promise_then): the index, in the same call's transfers, of the transfer it
    # waits for; its promise result is that transfer's outcome. None: an independent call.
    after: int | None = None


@dataclass(frozen=True)
class CallContext:
    """What NEAR tells a contract about the call it is running."""

    current_account: str
    predecessor: str
    signer: str | None = None
    attached_deposit: int = 0
    block_timestamp_ns: int = 0
    view: bool = False
    # Inside a callback: the results of the promises it waited for (bytes on success, None
    # when the promise failed), as promise_result reports them.
    promise_results: tuple[bytes | None, ...] = ()


@dataclass
class Host:
    """The env interface of the contract logic for one call over `storage`."""

    context: CallContext
    storage: MutableMapping[str, str]
    transfers: list[TransferRecord] = field(default_factory=list)
    promises: list[PromiseRecord] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)

    def predecessor(self) -> str:
        return self.context.predecessor

    def current_account(self) -> str:
        return self.context.current_account

    def attached_deposit(self) -> int:
        return self.context.attached_deposit

    def block_timestamp(self) -> int:
        return self.context.block_timestamp_ns

    def read(self, key: str) -> str | None:
        return self.storage.get(key)

    def read_bytes(self, key: str) -> bytes | None:
        value = self.storage.get(key)
        return None if value is None else value.encode("utf-8")

    def write(self, key: str, value: str) -> None:
        self._mutable()
        self.storage[key] = value

    def remove(self, key: str) -> None:
        self._mutable()
        self.storage.pop(key, None)

    def transfer(self, receiver: str, amount: int) -> None:
        self._mutable()
        self.transfers.append(TransferRecord(receiver, int(amount)))

    def call(self, receiver: str, method: str, args_json: str, deposit: int, gas: int) -> None:
        self._mutable()
        self.promises.append(PromiseRecord(receiver, method, json.loads(args_json), deposit, gas))

    def transfer_then(
        self, receiver: str, amount: int, method: str, args_json: str, gas: int
    ) -> None:
        """A transfer, then `method` on this contract with the transfer's outcome as its
        promise result (NEAR's promise_batch_create + transfer + promise_then)."""
        self.transfer(receiver, amount)
        callback = PromiseRecord(
            self.context.current_account, method, json.loads(args_json), 0, gas,
            after=len(self.transfers) - 1,
        )  # fmt: skip
        self.promises.append(callback)

    def promise_count(self) -> int:
        return len(self.context.promise_results)

    def promise_ok(self, index: int) -> bool:
        results = self.context.promise_results
        if not 0 <= index < len(results):
            raise ContractPanic(f"HostError: InvalidPromiseResultIndex {index}")
        return results[index] is not None

    def log(self, message: str) -> None:
        self.logs.append(message)

    def panic(self, message: str) -> NoReturn:
        raise ContractPanic(message)

    def _mutable(self) -> None:
        if self.context.view:
            raise ContractPanic("HostError: ProhibitedInView")


def contracts_dir() -> Path:
    """Where the contract sources live: $MYCEL_CONTRACTS_DIR, else the repository's contracts/."""
    configured = os.environ.get("MYCEL_CONTRACTS_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "contracts"


def load_logic(kind: str) -> ModuleType:
    """Import the logic module of a contract kind (a key of CONTRACT_KINDS)."""
    if kind not in CONTRACT_KINDS:
        raise ValueError(
            f"unknown contract kind {kind!r}; expected one of {sorted(CONTRACT_KINDS)}"
        )
    module_name = f"mycel_contract_{kind}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    path = contracts_dir() / kind / CONTRACT_KINDS[kind]
    if not path.is_file():
        raise FileNotFoundError(f"contract logic not found at {path} (set MYCEL_CONTRACTS_DIR)")
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def run_method(logic: ModuleType, host: Host, method: str, args: dict[str, Any]) -> Any:
    """Run one method through the logic's dispatch; any non-panic error becomes a panic too,
    as an uncaught exception aborts a WASM call."""
    try:
        result = logic.dispatch(host, method, args)
    except ContractPanic:
        raise
    except Exception as exc:  # the contract crashed on input it did not validate
        raise ContractPanic(f"Unexpected error: {type(exc).__name__}: {exc}") from exc
    # The result crosses the boundary as JSON, exactly as value_return would send it; a logic's
    # `Raw` result is JSON text already (stored records returned as they are).
    raw = getattr(result, "raw_json", None)
    if isinstance(raw, str | bytes):
        return json.loads(raw)
    return json.loads(json.dumps(result))


def now_ns() -> int:
    return time.time_ns()
