"""A minimal NEAR host for running a nearc-compiled contract under wasmtime (tests only).

It implements the NEAR host functions the MicroPython runtime actually uses (registers, input,
value_return, storage, context, logs, panics, promise_create and transfers) with the same
semantics as nearcore's logic; every other import traps with its name. Gas is not metered.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import wasmtime

from mycel_subnet.near.host import CallContext, ContractPanic, PromiseRecord, TransferRecord

U64_MAX = (1 << 64) - 1


class _Abort(Exception):
    """Raised inside a host function to stop the contract (panic, or an unsupported call)."""


class WasmContract:
    """One compiled contract with its storage; each call gets a fresh instance, as on NEAR."""

    def __init__(self, wasm_path: str) -> None:
        self.engine = wasmtime.Engine()
        self.module = wasmtime.Module.from_file(self.engine, wasm_path)
        self.storage: dict[str, str] = {}

    def methods(self) -> list[str]:
        """The functions the contract exports (NEAR methods, plus `memory`)."""
        return [export.name for export in self.module.exports]

    def call(
        self,
        method: str,
        args: dict[str, Any] | None,
        context: CallContext,
        raw_input: bytes | None = None,
    ) -> _CallResult:
        """Run `method` with `args` as JSON input (or `raw_input` bytes as they are)."""
        if method not in self.methods():
            raise ContractPanic(f"MethodResolveError(MethodNotFound): {method}")
        data = raw_input if raw_input is not None else json.dumps(args).encode()
        run = _CallResult(context, data)
        store = wasmtime.Store(self.engine)
        imports = [self._import(store, run, imp) for imp in self.module.imports]
        instance = wasmtime.Instance(store, self.module, imports)
        run.memory = instance.exports(store)["memory"]
        run.store = store
        snapshot = dict(self.storage)
        run.storage = self.storage
        try:
            instance.exports(store)[method](store)
        except (wasmtime.Trap, wasmtime.WasmtimeError, _Abort) as exc:
            self.storage.clear()
            self.storage.update(snapshot)  # a failed call leaves no state behind
            raise ContractPanic(run.panic or f"wasm trap: {exc}") from exc
        if run.panic is not None:
            self.storage.clear()
            self.storage.update(snapshot)
            raise ContractPanic(run.panic)
        return run

    def _import(self, store: wasmtime.Store, run: _CallResult, imp: Any) -> wasmtime.Func:
        impl = getattr(run, "h_" + imp.name, None)
        functype = imp.type

        def host(*params: int) -> Any:
            if impl is None:
                run.panic = f"unsupported host function {imp.name}"
                raise _Abort(run.panic)
            return impl(*params)

        return wasmtime.Func(store, functype, host)


class _CallResult:
    """The state of one call: registers, return value, logs, receipts; `h_*` are host functions."""

    def __init__(self, context: CallContext, input_bytes: bytes) -> None:
        self.context = context
        self.input = input_bytes
        self.registers: dict[int, bytes] = {}
        self.return_value: bytes | None = None
        self.logs: list[str] = []
        self.panic: str | None = None
        self.transfers: list[TransferRecord] = []
        self.promises: list[PromiseRecord] = []
        self._batches: dict[int, str] = {}
        self.storage: dict[str, str] = {}
        self.memory: Any = None
        self.store: Any = None

    @property
    def result(self) -> Any:
        return None if not self.return_value else json.loads(self.return_value)

    # ----- memory ------------------------------------------------------------------------------

    def _read(self, ptr: int, length: int) -> bytes:
        return bytes(self.memory.read(self.store, ptr, ptr + length))

    def _write(self, ptr: int, data: bytes) -> None:
        self.memory.write(self.store, data, ptr)

    def _abort(self, message: str) -> None:
        self.panic = message
        raise _Abort(message)

    def _mutable(self) -> None:
        # nearcore refuses state changes and receipts in a view call at the host function.
        if self.context.view:
            self._abort("HostError: ProhibitedInView")

    # ----- registers and I/O ---------------------------------------------------------------------

    def h_read_register(self, register_id: int, ptr: int) -> None:
        self._write(ptr, self.registers[register_id])

    def h_register_len(self, register_id: int) -> int:
        data = self.registers.get(register_id)
        return U64_MAX if data is None else len(data)

    def h_write_register(self, register_id: int, length: int, ptr: int) -> None:
        self.registers[register_id] = self._read(ptr, length)

    def h_input(self, register_id: int) -> None:
        self.registers[register_id] = self.input

    def h_value_return(self, length: int, ptr: int) -> None:
        self.return_value = self._read(ptr, length)

    def h_panic(self) -> None:
        self._abort("explicit guest panic")

    def h_panic_utf8(self, length: int, ptr: int) -> None:
        self._abort(self._read(ptr, length).decode("utf-8"))

    def h_log_utf8(self, length: int, ptr: int) -> None:
        self.logs.append(self._read(ptr, length).decode("utf-8"))

    def h_sha256(self, length: int, ptr: int, register_id: int) -> None:
        self.registers[register_id] = hashlib.sha256(self._read(ptr, length)).digest()

    # ----- context -------------------------------------------------------------------------------

    def h_current_account_id(self, register_id: int) -> None:
        self.registers[register_id] = self.context.current_account.encode()

    def h_predecessor_account_id(self, register_id: int) -> None:
        self.registers[register_id] = self.context.predecessor.encode()

    def h_signer_account_id(self, register_id: int) -> None:
        self.registers[register_id] = (self.context.signer or self.context.predecessor).encode()

    def h_block_index(self) -> int:
        return 1

    def h_block_timestamp(self) -> int:
        return self.context.block_timestamp_ns

    def h_epoch_height(self) -> int:
        return 1

    def h_attached_deposit(self, ptr: int) -> None:
        self._write(ptr, self.context.attached_deposit.to_bytes(16, "little"))

    def h_prepaid_gas(self) -> int:
        return 300 * 10**12

    def h_used_gas(self) -> int:
        return 0

    def h_storage_usage(self) -> int:
        return sum(len(k) + len(v) for k, v in self.storage.items())

    # ----- storage -------------------------------------------------------------------------------

    def h_storage_write(self, key_len: int, key_ptr: int, val_len: int, val_ptr: int, reg: int):
        self._mutable()
        key = self._read(key_ptr, key_len).decode()
        old = self.storage.get(key)
        self.storage[key] = self._read(val_ptr, val_len).decode()
        if old is None:
            return 0
        self.registers[reg] = old.encode()
        return 1

    def h_storage_read(self, key_len: int, key_ptr: int, reg: int) -> int:
        value = self.storage.get(self._read(key_ptr, key_len).decode())
        if value is None:
            return 0
        self.registers[reg] = value.encode()
        return 1

    def h_storage_remove(self, key_len: int, key_ptr: int, reg: int) -> int:
        self._mutable()
        value = self.storage.pop(self._read(key_ptr, key_len).decode(), None)
        if value is None:
            return 0
        self.registers[reg] = value.encode()
        return 1

    def h_storage_has_key(self, key_len: int, key_ptr: int) -> int:
        return int(self._read(key_ptr, key_len).decode() in self.storage)

    # ----- promises ------------------------------------------------------------------------------

    def h_promise_create(self, a_len, a_ptr, m_len, m_ptr, args_len, args_ptr, amount_ptr, gas):
        self._mutable()
        receiver = self._read(a_ptr, a_len).decode()
        method = self._read(m_ptr, m_len).decode()
        args = json.loads(self._read(args_ptr, args_len) or b"{}")
        amount = int.from_bytes(self._read(amount_ptr, 16), "little")
        self.promises.append(PromiseRecord(receiver, method, args, amount, gas))
        return len(self.promises) - 1

    def h_promise_batch_create(self, a_len: int, a_ptr: int) -> int:
        self._mutable()
        index = 1000 + len(self._batches)
        self._batches[index] = self._read(a_ptr, a_len).decode()
        return index

    def h_promise_batch_action_transfer(self, index: int, amount_ptr: int) -> None:
        amount = int.from_bytes(self._read(amount_ptr, 16), "little")
        self.transfers.append(TransferRecord(self._batches[index], amount))
