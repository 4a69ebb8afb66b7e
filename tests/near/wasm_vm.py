"""A minimal NEAR host for running a nearc-compiled contract under wasmtime (tests only).

It implements the NEAR host functions the MicroPython runtime actually uses (registers, input,
value_return, storage, context, logs, panics, promise_create, transfers, promise_then and
promise_result) with the same semantics as nearcore's logic; every other import traps with its
name.

Gas is estimated, not measured by nearcore: wasmtime's fuel counts the WebAssembly instructions
run (1 per instruction; nop, drop, block, loop, end and else cost 0), each is charged NEAR's
wasm_regular_op_cost, and every host function adds the parameters nearcore charges for it
(base, bytes read and written, storage, logs, receipts), plus contract loading. The parameters
are nearcore's (core/parameters/res/runtime_configs/parameters.snap). Not modelled: the trie
nodes a storage operation touches (estimated at TRIE_NODES per write or removal; reads are flat
storage), and the differences between wasmtime's instruction count and nearcore's finite-wasm
instrumentation (which also charges control instructions); so read the figures as estimates
within tens of percent, not as the chain's exact gas.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import wasmtime

from mycel_subnet.near.host import CallContext, ContractPanic, PromiseRecord, TransferRecord

U64_MAX = (1 << 64) - 1
FUEL = 10**13  # far above any call: 300 Tgas / regular_op_cost is about 3.6e8 instructions

# nearcore's gas parameters (parameters.snap), in gas units.
REGULAR_OP = 822_756
COST = {
    "base": 264_768_111,
    "contract_loading_base": 35_445_963,
    "contract_loading_byte": 1_089_295,
    "read_memory_base": 2_609_863_200,
    "read_memory_byte": 3_801_333,
    "write_memory_base": 2_803_794_861,
    "write_memory_byte": 2_723_772,
    "read_register_base": 2_517_165_186,
    "read_register_byte": 98_562,
    "write_register_base": 2_865_522_486,
    "write_register_byte": 3_801_564,
    "utf8_decoding_base": 3_111_779_061,
    "utf8_decoding_byte": 291_580_479,
    "log_base": 3_543_313_050,
    "log_byte": 13_198_791,
    "sha256_base": 4_540_970_250,
    "sha256_byte": 24_117_351,
    "storage_write_base": 64_196_736_000,
    "storage_write_key_byte": 70_482_867,
    "storage_write_value_byte": 31_018_539,
    "storage_write_evicted_byte": 32_117_307,
    "storage_read_base": 56_356_845_749,
    "storage_read_key_byte": 30_952_533,
    "storage_read_value_byte": 5_611_004,
    "storage_remove_base": 53_473_030_500,
    "storage_remove_key_byte": 38_220_384,
    "storage_remove_ret_value_byte": 11_531_556,
    "storage_has_key_base": 54_039_896_625,
    "storage_has_key_byte": 30_790_845,
    "touching_trie_node": 2_280_000_000,
    "promise_and_base": 1_465_013_400,
    # sending a receipt (charged to the call that creates it; "send_not_sir")
    "action_receipt_creation": 108_059_500_000,
    "action_function_call": 200_000_000_000,
    "action_function_call_byte": 47_683_715,
    "action_transfer": 115_123_062_500,
    "data_receipt_creation_base": 36_486_732_312,
    # and executing it later: reserved from this call's gas at creation
    "exec_receipt_creation": 108_059_500_000,
    "exec_function_call": 780_000_000_000,
    "exec_function_call_byte": 2_235_934,
    "exec_transfer": 115_123_062_500,
}
TRIE_NODES = 16  # an estimate of trie nodes touched per storage write or removal
NEAR_LIMIT = 300 * 10**12


class Gas:
    """The gas of one call: instructions (fuel) and host functions, burnt here; and gas this
    call hands to the receipts it creates (their attached gas and execution fees)."""

    def __init__(self, wasm_bytes: int) -> None:
        self.host = COST["contract_loading_base"] + COST["contract_loading_byte"] * wasm_bytes
        self.instructions = 0
        self.reserved = 0

    def charge(self, amount: int) -> None:
        self.host += amount

    @property
    def burnt(self) -> int:
        return self.instructions * REGULAR_OP + self.host

    @property
    def used(self) -> int:
        """What counts against the call's prepaid gas (NEAR's 300 Tgas per call)."""
        return self.burnt + self.reserved


class _Abort(Exception):
    """Raised inside a host function to stop the contract (panic, or an unsupported call)."""


class WasmContract:
    """One compiled contract with its storage; each call gets a fresh instance, as on NEAR."""

    def __init__(self, wasm_path: str) -> None:
        config = wasmtime.Config()
        config.consume_fuel = True
        self.engine = wasmtime.Engine(config)
        self.module = wasmtime.Module.from_file(self.engine, wasm_path)
        self.size = Path(wasm_path).stat().st_size
        self.storage: dict[str, str] = {}
        self.last_run: _CallResult | None = None

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
        run = _CallResult(context, data, Gas(self.size))
        store = wasmtime.Store(self.engine)
        store.set_fuel(FUEL)
        imports = [self._import(store, run, imp) for imp in self.module.imports]
        instance = wasmtime.Instance(store, self.module, imports)
        run.memory = instance.exports(store)["memory"]
        run.store = store
        snapshot = dict(self.storage)
        run.storage = self.storage
        self.last_run = run  # kept when the call fails too (its gas up to the failure)
        try:
            try:
                instance.exports(store)[method](store)
            finally:
                run.gas.instructions = FUEL - store.get_fuel()
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
            run.gas.charge(COST["base"])
            return impl(*params)

        return wasmtime.Func(store, functype, host)


class _CallResult:
    """The state of one call: registers, return value, logs, receipts; `h_*` are host functions."""

    def __init__(self, context: CallContext, input_bytes: bytes, gas: Gas) -> None:
        self.context = context
        self.input = input_bytes
        self.gas = gas
        self.registers: dict[int, bytes] = {}
        self.return_value: bytes | None = None
        self.logs: list[str] = []
        self.panic: str | None = None
        self.transfers: list[TransferRecord] = []
        self.promises: list[PromiseRecord] = []
        self._batches: dict[int, str] = {}
        self._batch_transfer: dict[int, int] = {}  # batch index -> its transfer's position
        self.storage: dict[str, str] = {}
        self.memory: Any = None
        self.store: Any = None

    @property
    def result(self) -> Any:
        return None if not self.return_value else json.loads(self.return_value)

    # ----- memory ------------------------------------------------------------------------------

    def _read(self, ptr: int, length: int) -> bytes:
        self.gas.charge(COST["read_memory_base"] + COST["read_memory_byte"] * length)
        return bytes(self.memory.read(self.store, ptr, ptr + length))

    def _write(self, ptr: int, data: bytes) -> None:
        self.gas.charge(COST["write_memory_base"] + COST["write_memory_byte"] * len(data))
        self.memory.write(self.store, data, ptr)

    def _register(self, register_id: int, data: bytes) -> None:
        self.gas.charge(COST["write_register_base"] + COST["write_register_byte"] * len(data))
        self.registers[register_id] = data

    def _utf8(self, ptr: int, length: int) -> str:
        self.gas.charge(COST["utf8_decoding_base"] + COST["utf8_decoding_byte"] * length)
        return self._read(ptr, length).decode("utf-8")

    def _abort(self, message: str) -> None:
        self.panic = message
        raise _Abort(message)

    def _mutable(self) -> None:
        # nearcore refuses state changes and receipts in a view call at the host function.
        if self.context.view:
            self._abort("HostError: ProhibitedInView")

    # ----- registers and I/O ---------------------------------------------------------------------

    def h_read_register(self, register_id: int, ptr: int) -> None:
        data = self.registers[register_id]
        self.gas.charge(COST["read_register_base"] + COST["read_register_byte"] * len(data))
        self._write(ptr, data)

    def h_register_len(self, register_id: int) -> int:
        data = self.registers.get(register_id)
        return U64_MAX if data is None else len(data)

    def h_write_register(self, register_id: int, length: int, ptr: int) -> None:
        self._register(register_id, self._read(ptr, length))

    def h_input(self, register_id: int) -> None:
        self._register(register_id, self.input)

    def h_value_return(self, length: int, ptr: int) -> None:
        self.return_value = self._read(ptr, length)

    def h_panic(self) -> None:
        self._abort("explicit guest panic")

    def h_panic_utf8(self, length: int, ptr: int) -> None:
        self._abort(self._utf8(ptr, length))

    def h_log_utf8(self, length: int, ptr: int) -> None:
        self.gas.charge(COST["log_base"] + COST["log_byte"] * length)
        self.logs.append(self._utf8(ptr, length))

    def h_sha256(self, length: int, ptr: int, register_id: int) -> None:
        self.gas.charge(COST["sha256_base"] + COST["sha256_byte"] * length)
        self._register(register_id, hashlib.sha256(self._read(ptr, length)).digest())

    # ----- context -------------------------------------------------------------------------------

    def h_current_account_id(self, register_id: int) -> None:
        self._register(register_id, self.context.current_account.encode())

    def h_predecessor_account_id(self, register_id: int) -> None:
        self._register(register_id, self.context.predecessor.encode())

    def h_signer_account_id(self, register_id: int) -> None:
        self._register(register_id, (self.context.signer or self.context.predecessor).encode())

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
        return self.gas.used

    def h_storage_usage(self) -> int:
        return sum(len(k) + len(v) for k, v in self.storage.items())

    # ----- storage -------------------------------------------------------------------------------

    def h_storage_write(self, key_len: int, key_ptr: int, val_len: int, val_ptr: int, reg: int):
        self._mutable()
        key = self._read(key_ptr, key_len).decode()
        old = self.storage.get(key)
        self.storage[key] = self._read(val_ptr, val_len).decode()
        self.gas.charge(
            COST["storage_write_base"]
            + COST["storage_write_key_byte"] * key_len
            + COST["storage_write_value_byte"] * val_len
            + COST["storage_write_evicted_byte"] * (0 if old is None else len(old.encode()))
            + COST["touching_trie_node"] * TRIE_NODES
        )
        if old is None:
            return 0
        self._register(reg, old.encode())
        return 1

    def h_storage_read(self, key_len: int, key_ptr: int, reg: int) -> int:
        value = self.storage.get(self._read(key_ptr, key_len).decode())
        size = 0 if value is None else len(value.encode())
        self.gas.charge(
            COST["storage_read_base"]
            + COST["storage_read_key_byte"] * key_len
            + COST["storage_read_value_byte"] * size
        )
        if value is None:
            return 0
        self._register(reg, value.encode())
        return 1

    def h_storage_remove(self, key_len: int, key_ptr: int, reg: int) -> int:
        self._mutable()
        value = self.storage.pop(self._read(key_ptr, key_len).decode(), None)
        size = 0 if value is None else len(value.encode())
        self.gas.charge(
            COST["storage_remove_base"]
            + COST["storage_remove_key_byte"] * key_len
            + COST["storage_remove_ret_value_byte"] * size
            + COST["touching_trie_node"] * TRIE_NODES
        )
        if value is None:
            return 0
        self._register(reg, value.encode())
        return 1

    def h_storage_has_key(self, key_len: int, key_ptr: int) -> int:
        self.gas.charge(COST["storage_has_key_base"] + COST["storage_has_key_byte"] * key_len)
        return int(self._read(key_ptr, key_len).decode() in self.storage)

    # ----- promises ------------------------------------------------------------------------------

    def _function_call_receipt(self, method: str, args_len: int, gas: int) -> None:
        size = len(method) + args_len
        self.gas.charge(
            COST["action_receipt_creation"]
            + COST["action_function_call"]
            + COST["action_function_call_byte"] * size
        )
        self.gas.reserved += (
            gas
            + COST["exec_receipt_creation"]
            + COST["exec_function_call"]
            + COST["exec_function_call_byte"] * size
        )

    def h_promise_create(self, a_len, a_ptr, m_len, m_ptr, args_len, args_ptr, amount_ptr, gas):
        self._mutable()
        receiver = self._read(a_ptr, a_len).decode()
        method = self._read(m_ptr, m_len).decode()
        args = json.loads(self._read(args_ptr, args_len) or b"{}")
        amount = int.from_bytes(self._read(amount_ptr, 16), "little")
        self._function_call_receipt(method, args_len, gas)
        self.promises.append(PromiseRecord(receiver, method, args, amount, gas))
        return len(self.promises) - 1

    def h_promise_then(
        self, index, a_len, a_ptr, m_len, m_ptr, args_len, args_ptr, amount_ptr, gas
    ) -> int:
        """A callback after a transfer batch (the only dependency these contracts create)."""
        self._mutable()
        if index not in self._batch_transfer:
            self._abort(f"unsupported promise_then on promise {index}")
        receiver = self._read(a_ptr, a_len).decode()
        method = self._read(m_ptr, m_len).decode()
        args = json.loads(self._read(args_ptr, args_len) or b"{}")
        amount = int.from_bytes(self._read(amount_ptr, 16), "little")
        self._function_call_receipt(method, args_len, gas)
        self.gas.charge(COST["data_receipt_creation_base"])
        after = self._batch_transfer[index]
        self.promises.append(PromiseRecord(receiver, method, args, amount, gas, after=after))
        return 2000 + len(self.promises) - 1

    def h_promise_batch_create(self, a_len: int, a_ptr: int) -> int:
        self._mutable()
        index = 1000 + len(self._batches)
        self._batches[index] = self._read(a_ptr, a_len).decode()
        self.gas.charge(COST["action_receipt_creation"])
        self.gas.reserved += COST["exec_receipt_creation"]
        return index

    def h_promise_batch_action_transfer(self, index: int, amount_ptr: int) -> None:
        amount = int.from_bytes(self._read(amount_ptr, 16), "little")
        self.gas.charge(COST["action_transfer"])
        self.gas.reserved += COST["exec_transfer"]
        self._batch_transfer[index] = len(self.transfers)
        self.transfers.append(TransferRecord(self._batches[index], amount))

    def h_promise_results_count(self) -> int:
        return len(self.context.promise_results)

    def h_promise_result(self, result_idx: int, register_id: int) -> int:
        """1 and the data in the register on success, 2 on failure (nearcore's codes)."""
        results = self.context.promise_results
        if not 0 <= result_idx < len(results):
            self._abort(f"HostError: InvalidPromiseResultIndex {result_idx}")
        data = results[result_idx]
        if data is None:
            return 2
        self._register(register_id, data)
        return 1
