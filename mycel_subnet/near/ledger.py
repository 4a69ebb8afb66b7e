"""The local NEAR ledger: the embedded default chain for the pattern registry and reputation.

State is one SQLite file in WAL mode, so several processes (a validator, the CLI, a fake RPC
server) can share it. Accounts hold balances in yoctoNEAR (decimal text: u128 does not fit
SQLite's 64-bit integers). Contracts are the logic modules in contracts/, run by the CPython
host. Every transaction is atomic: a panic rolls back all of its state and so refunds the
attached deposit.

How it models NEAR's asynchronous receipts: after the called method returns, the transfers
and cross-contract promises it scheduled run in order as receipts of the same transaction,
each inside its own SAVEPOINT with predecessor = the scheduling contract. A failing receipt is
rolled back alone (its attached deposit goes back) and reported, while the caller's changes
stay, as on NEAR. Gas is not metered and storage staking is not charged (see docs/near.md).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mycel_subnet.near.host import (
    CallContext,
    ContractPanic,
    Host,
    PromiseRecord,
    TransferRecord,
    load_logic,
    now_ns,
    run_method,
)
from mycel_subnet.sqlite_util import enable_wal

ONE_NEAR = 10**24
MAX_U128 = (1 << 128) - 1
DEFAULT_REGISTRY = "registry.mycel.test"
DEFAULT_REPUTATION = "reputation.mycel.test"
DEFAULT_FL_ROUNDS = "fl.mycel.test"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    account_id TEXT PRIMARY KEY, balance TEXT NOT NULL, contract_kind TEXT);
CREATE TABLE IF NOT EXISTS access_keys (
    account_id TEXT NOT NULL, public_key TEXT NOT NULL, nonce INTEGER NOT NULL,
    PRIMARY KEY (account_id, public_key));
CREATE TABLE IF NOT EXISTS state (
    contract TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (contract, key));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS txs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, signer TEXT, receiver TEXT, method TEXT, args TEXT,
    deposit TEXT, status TEXT, result TEXT, error TEXT, logs TEXT, block_height INTEGER,
    timestamp_ns INTEGER);
CREATE TABLE IF NOT EXISTS transfers (
    tx_id INTEGER, sender TEXT, receiver TEXT, amount TEXT);
"""


class LedgerError(Exception):
    """The ledger refused a transaction before any contract ran (unknown account, funds)."""


@dataclass(frozen=True)
class ReceiptOutcome:
    """One receipt a transaction produced after its main call (transfer or promise call)."""

    sender: str
    receiver: str
    kind: str  # "transfer" or "call"
    method: str | None
    amount: int
    ok: bool
    error: str | None = None


@dataclass(frozen=True)
class CallOutcome:
    """The result of a successful transaction."""

    tx_id: int
    block_height: int
    result: Any
    logs: list[str] = field(default_factory=list)
    receipts: list[ReceiptOutcome] = field(default_factory=list)


class _SqliteStorage(MutableMapping[str, str]):
    """One contract's key-value storage as a mapping over the state table."""

    def __init__(self, conn: sqlite3.Connection, contract: str) -> None:
        self._conn = conn
        self._contract = contract

    def __getitem__(self, key: str) -> str:
        row = self._conn.execute(
            "SELECT value FROM state WHERE contract=? AND key=?", (self._contract, key)
        ).fetchone()
        if row is None:
            raise KeyError(key)
        return row[0]

    def __setitem__(self, key: str, value: str) -> None:
        self._conn.execute(
            "INSERT INTO state(contract, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT(contract, key) DO UPDATE SET value=excluded.value",
            (self._contract, key, value),
        )

    def __delitem__(self, key: str) -> None:
        self._conn.execute("DELETE FROM state WHERE contract=? AND key=?", (self._contract, key))

    def __iter__(self) -> Iterator[str]:
        rows = self._conn.execute("SELECT key FROM state WHERE contract=?", (self._contract,))
        return iter([r[0] for r in rows.fetchall()])

    def __len__(self) -> int:
        row = self._conn.execute("SELECT COUNT(*) FROM state WHERE contract=?", (self._contract,))
        return int(row.fetchone()[0])


def is_account_id(value: str) -> bool:
    """NEAR's account id rules (the reputation contract's own check)."""
    return bool(load_logic("reputation").is_account_id(value))


class LocalLedger:
    """A single-shard NEAR stand-in over SQLite that runs the Mycel contracts' logic."""

    def __init__(
        self, path: str | Path, *, clock_ns: Callable[[], int] = now_ns, timeout_s: float = 30.0
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clock_ns = clock_ns
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            str(self.path), timeout=timeout_s, isolation_level=None, check_same_thread=False
        )
        self._enable_wal(timeout_s)
        self._conn.execute("PRAGMA synchronous=NORMAL")
        with self._lock:
            self._conn.executescript(_SCHEMA)

    def _enable_wal(self, timeout_s: float) -> None:
        """Switch to WAL. SQLite answers "locked" at once, without waiting, when two processes
        create the file together, so retry briefly."""
        mode = enable_wal(self._conn, timeout_s)
        if mode != "wal":
            raise LedgerError(f"cannot use WAL journal on {self.path} (got {mode})")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> LocalLedger:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ----- accounts ---------------------------------------------------------------------------

    def create_account(self, account_id: str, balance: int = 0) -> None:
        """Create an account (idempotent: an existing account keeps its balance)."""
        if not is_account_id(account_id):
            raise LedgerError(f"invalid NEAR account id: {account_id!r}")
        _check_amount(balance, "balance")
        with self._lock, self._tx():
            self._conn.execute(
                "INSERT OR IGNORE INTO accounts(account_id, balance) VALUES (?, ?)",
                (account_id, str(balance)),
            )

    def transfer(self, sender: str, receiver: str, amount: int) -> None:
        """A plain NEAR Transfer between two accounts (no contract runs)."""
        _check_amount(amount, "amount")
        with self._lock, self._tx():
            self._move(sender, receiver, amount)

    def delete_account(self, account_id: str, beneficiary: str) -> None:
        """NEAR's DeleteAccount: the balance goes to `beneficiary`, the account, its keys and
        its contract state are gone (a transfer to it fails from then on)."""
        with self._lock, self._tx():
            have = self._require_account(account_id)
            self._require_account(beneficiary)
            self._move(account_id, beneficiary, have)
            for table in ("access_keys", "accounts"):
                self._conn.execute(f"DELETE FROM {table} WHERE account_id=?", (account_id,))
            self._conn.execute("DELETE FROM state WHERE contract=?", (account_id,))

    def account_exists(self, account_id: str) -> bool:
        with self._lock:
            return self._balance_or_none(account_id) is not None

    def balance(self, account_id: str) -> int:
        with self._lock:
            found = self._balance_or_none(account_id)
        if found is None:
            raise LedgerError(f"unknown account: {account_id}")
        return found

    def add_access_key(self, account_id: str, public_key: str) -> None:
        """Register a full-access ed25519 key ("ed25519:<base58>") for signed transactions."""
        with self._lock, self._tx():
            self._require_account(account_id)
            self._conn.execute(
                "INSERT OR IGNORE INTO access_keys(account_id, public_key, nonce) VALUES (?, ?, 0)",
                (account_id, public_key),
            )

    def access_key_nonce(self, account_id: str, public_key: str) -> int | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT nonce FROM access_keys WHERE account_id=? AND public_key=?",
                (account_id, public_key),
            ).fetchone()
        return None if row is None else int(row[0])

    def use_nonce(self, account_id: str, public_key: str, nonce: int) -> None:
        """Accept a transaction nonce once: it must exceed the key's last nonce."""
        with self._lock, self._tx():
            row = self._conn.execute(
                "SELECT nonce FROM access_keys WHERE account_id=? AND public_key=?",
                (account_id, public_key),
            ).fetchone()
            if row is None:
                raise LedgerError(f"no access key {public_key} on {account_id}")
            if nonce <= int(row[0]):
                raise LedgerError(f"invalid nonce {nonce}: key nonce is {row[0]}")
            self._conn.execute(
                "UPDATE access_keys SET nonce=? WHERE account_id=? AND public_key=?",
                (nonce, account_id, public_key),
            )

    def block_height(self) -> int:
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key='block_height'").fetchone()
        return 0 if row is None else int(row[0])

    # ----- contracts --------------------------------------------------------------------------

    def deploy(self, account_id: str, kind: str, init_args: dict[str, Any]) -> CallOutcome:
        """Deploy a contract kind at `account_id` (created if missing) and call its init."""
        load_logic(kind)
        self.create_account(account_id)
        with self._lock, self._tx():
            self._conn.execute(
                "UPDATE accounts SET contract_kind=? WHERE account_id=?", (kind, account_id)
            )
        return self.call(account_id, account_id, "init", init_args)

    def contract_kind(self, account_id: str) -> str | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT contract_kind FROM accounts WHERE account_id=?", (account_id,)
            ).fetchone()
        return None if row is None else row[0]

    def ensure_mycel_contracts(
        self,
        owner: str,
        *,
        registry: str = DEFAULT_REGISTRY,
        reputation: str = DEFAULT_REPUTATION,
        fee_bps: int = 500,
    ) -> tuple[str, str]:
        """Deploy and initialise both contracts once; later calls (any process) are no-ops."""
        self.create_account(owner)
        for account, kind, args in (
            (registry, "pattern_registry", {"owner": owner, "reputation_contract": reputation}),
            (reputation, "reputation", {"owner": owner, "registry_contract": registry}),
        ):
            if kind == "pattern_registry":
                args["fee_bps"] = fee_bps
            if self.contract_kind(account) == kind and self._initialized(account):
                continue
            try:
                self.deploy(account, kind, args)
            except ContractPanic as exc:
                if exc.message != "Already initialized":
                    raise
        return registry, reputation

    def ensure_fl_contract(self, owner: str, *, account: str = DEFAULT_FL_ROUNDS) -> str:
        """Deploy and initialise the FlRounds contract once (owner: `owner`); later calls, from
        any process, are no-ops. Returns its account."""
        self.create_account(owner)
        if self.contract_kind(account) == "fl_rounds" and self._initialized(account):
            return account
        try:
            self.deploy(account, "fl_rounds", {"owner": owner})
        except ContractPanic as exc:
            if exc.message != "Already initialized":
                raise
        return account

    def _initialized(self, account: str) -> bool:
        try:
            self.view(account, "get_config")
        except ContractPanic:
            return False  # deployed by another process that has not run init yet
        return True

    def view(self, contract: str, method: str, args: dict[str, Any] | None = None) -> Any:
        """Run a method read-only (NEAR's view call): any write panics, nothing is kept."""
        with self._lock:
            kind = self._contract_kind_or_fail(contract)
            context = CallContext(
                current_account=contract,
                predecessor=contract,
                block_timestamp_ns=self._clock_ns(),
                view=True,
            )
            host = Host(context, _SqliteStorage(self._conn, contract))
            return run_method(load_logic(kind), host, method, args or {})

    def call(
        self,
        signer: str,
        contract: str,
        method: str,
        args: dict[str, Any] | None = None,
        deposit: int = 0,
    ) -> CallOutcome:
        """Sign-and-execute one function call atomically; a panic raises ContractPanic after
        rolling everything back (the deposit never left the signer)."""
        _check_amount(deposit, "deposit")
        args = args or {}
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            height = 0
            try:
                height = self._next_block()
                timestamp = self._clock_ns()
                self._require_account(signer)
                kind = self._contract_kind_or_fail(contract)
                self._move(signer, contract, deposit)
                context = CallContext(contract, signer, signer, deposit, timestamp)
                host = Host(context, _SqliteStorage(self._conn, contract))
                result = run_method(load_logic(kind), host, method, args)
                receipts = self._run_receipts(contract, host, signer, timestamp)
                tx_id = self._record(
                    signer, contract, method, args, deposit, "ok", result, None, host.logs, height
                )
                for r in receipts:
                    if r.kind == "transfer" and r.ok:
                        self._conn.execute(
                            "INSERT INTO transfers(tx_id, sender, receiver, amount) "
                            "VALUES (?, ?, ?, ?)",
                            (tx_id, r.sender, r.receiver, str(r.amount)),
                        )
                self._conn.execute("COMMIT")
            except ContractPanic as exc:
                self._conn.execute("ROLLBACK")
                self._record_failure(signer, contract, method, args, deposit, exc.message, height)
                raise
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return CallOutcome(tx_id, height, result, list(host.logs), receipts)

    def transfers(self, tx_id: int) -> list[TransferRecord]:
        """The NEAR transfers a committed transaction made (for audits and tests)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT receiver, amount FROM transfers WHERE tx_id=? ORDER BY rowid", (tx_id,)
            ).fetchall()
        return [TransferRecord(r[0], int(r[1])) for r in rows]

    def failed_transactions(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, signer, receiver, method, error FROM txs WHERE status='failed'"
            ).fetchall()
        keys = ("id", "signer", "receiver", "method", "error")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    # ----- internals --------------------------------------------------------------------------

    def _tx(self) -> _Tx:
        return _Tx(self._conn)

    def _balance_or_none(self, account_id: str) -> int | None:
        row = self._conn.execute(
            "SELECT balance FROM accounts WHERE account_id=?", (account_id,)
        ).fetchone()
        return None if row is None else int(row[0])

    def _require_account(self, account_id: str) -> int:
        found = self._balance_or_none(account_id)
        if found is None:
            raise LedgerError(f"unknown account: {account_id}")
        return found

    def _contract_kind_or_fail(self, account_id: str) -> str:
        kind = self.contract_kind(account_id)
        if kind is None:
            raise LedgerError(f"no contract deployed at {account_id}")
        return kind

    def _move(self, sender: str, receiver: str, amount: int) -> None:
        if amount == 0:
            return
        have = self._require_account(sender)
        if have < amount:
            raise LedgerError(f"{sender} has {have} yoctoNEAR, needs {amount}")
        to_have = self._require_account(receiver)
        self._conn.execute(
            "UPDATE accounts SET balance=? WHERE account_id=?", (str(have - amount), sender)
        )
        self._conn.execute(
            "UPDATE accounts SET balance=? WHERE account_id=?", (str(to_have + amount), receiver)
        )

    def _next_block(self) -> int:
        row = self._conn.execute("SELECT value FROM meta WHERE key='block_height'").fetchone()
        height = (0 if row is None else int(row[0])) + 1
        self._conn.execute(
            "INSERT INTO meta(key, value) VALUES ('block_height', ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (str(height),),
        )
        return height

    def _run_receipts(
        self, contract: str, host: Host, signer: str, timestamp: int
    ) -> list[ReceiptOutcome]:
        """Run a call's transfers, then its promises, in order (and theirs after them). A
        callback (PromiseRecord.after) gets the outcome of the transfer it waits for as its
        promise result, as promise_then does on NEAR."""
        queue: list[tuple[str, TransferRecord | PromiseRecord, list[bool]]] = []
        self._enqueue(queue, contract, host)
        outcomes: list[ReceiptOutcome] = []
        while queue:
            sender, item, sent = queue.pop(0)
            self._conn.execute("SAVEPOINT receipt")
            try:
                if isinstance(item, TransferRecord):
                    sent.append(False)
                    self._move(sender, item.receiver, item.amount)
                    sent[-1] = True
                    outcomes.append(
                        ReceiptOutcome(sender, item.receiver, "transfer", None, item.amount, True)
                    )
                else:
                    kind = self._contract_kind_or_fail(item.receiver)
                    self._move(sender, item.receiver, item.deposit)
                    results: tuple[bytes | None, ...] = ()
                    if item.after is not None:
                        ok = item.after < len(sent) and sent[item.after]
                        results = (b"" if ok else None,)
                    ctx = CallContext(
                        item.receiver, sender, signer, item.deposit, timestamp,
                        promise_results=results,
                    )  # fmt: skip
                    inner = Host(ctx, _SqliteStorage(self._conn, item.receiver))
                    run_method(load_logic(kind), inner, item.method, item.args)
                    host.logs.extend(inner.logs)
                    self._enqueue(queue, item.receiver, inner)
                    outcomes.append(
                        ReceiptOutcome(
                            sender, item.receiver, "call", item.method, item.deposit, True
                        )
                    )
                self._conn.execute("RELEASE receipt")
            except (ContractPanic, LedgerError) as exc:
                self._conn.execute("ROLLBACK TO receipt")
                self._conn.execute("RELEASE receipt")
                is_transfer = isinstance(item, TransferRecord)
                outcomes.append(
                    ReceiptOutcome(
                        sender,
                        item.receiver,
                        "transfer" if is_transfer else "call",
                        None if is_transfer else item.method,
                        item.amount if is_transfer else item.deposit,
                        False,
                        str(exc),
                    )
                )
        return outcomes

    @staticmethod
    def _enqueue(
        queue: list[tuple[str, TransferRecord | PromiseRecord, list[bool]]],
        sender: str,
        host: Host,
    ) -> None:
        """A call's receipts: its transfers first, then its promises; `sent` collects the
        outcomes of its transfers in order, for its callbacks."""
        sent: list[bool] = []
        queue.extend((sender, t, sent) for t in host.transfers)
        queue.extend((sender, p, sent) for p in host.promises)

    def _record(
        self,
        signer: str,
        contract: str,
        method: str,
        args: dict[str, Any],
        deposit: int,
        status: str,
        result: Any,
        error: str | None,
        logs: list[str],
        height: int,
    ) -> int:
        cursor = self._conn.execute(
            "INSERT INTO txs(signer, receiver, method, args, deposit, status, result, error, logs, "
            "block_height, timestamp_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                signer,
                contract,
                method,
                json.dumps(args),
                str(deposit),
                status,
                json.dumps(result),
                error,
                json.dumps(logs),
                height,
                self._clock_ns(),
            ),
        )
        return int(cursor.lastrowid or 0)

    def _record_failure(
        self,
        signer: str,
        contract: str,
        method: str,
        args: dict[str, Any],
        deposit: int,
        error: str,
        height: int,
    ) -> None:
        with self._tx():
            self._record(signer, contract, method, args, deposit, "failed", None, error, [], height)


class _Tx:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error (writers queue on SQLite's lock)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_rest: object) -> None:
        self._conn.execute("ROLLBACK" if exc_type else "COMMIT")


def _check_amount(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_U128:
        raise LedgerError(f"invalid {name}: expected an integer yoctoNEAR amount 0..2^128-1")
