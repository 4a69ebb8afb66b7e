"""PatternRegistry: the near-sdk-py (nearc) entry module.

Each exported function reads its JSON arguments, hands them to registry_logic.dispatch with a
NearEnv bound to the `near` host module of nearc's MicroPython runtime, and returns the result
as JSON. All contract rules live in registry_logic.py, which CPython tests run unchanged.
"""

import gc
import json

import near
import registry_logic

# nearc 0.10's runtime cannot collect safely: its stack scan starts from an uninitialised stack
# base and runs off the end of linear memory (a trap), and values held in wasm locals are not
# roots anyway. So never collect: build.sh gives the heap room for a call's garbage, and a call
# that still runs out panics cleanly ("Unexpected error: MemoryError") instead of trapping.
gc.disable()


class NearEnv:
    """The env interface of registry_logic over NEAR host functions."""

    def predecessor(self):
        return near.predecessor_account_id()

    def current_account(self):
        return near.current_account_id()

    def attached_deposit(self):
        return near.attached_deposit()

    def block_timestamp(self):
        return near.block_timestamp()

    def read(self, key):
        value = near.storage_read(key)
        return None if value is None else value.decode("utf-8")

    def read_bytes(self, key):
        return near.storage_read(key)

    def write(self, key, value):
        near.storage_write(key, value)

    def remove(self, key):
        near.storage_remove(key)

    def transfer(self, receiver, amount):
        promise = near.promise_batch_create(receiver)
        near.promise_batch_action_transfer(promise, amount)

    def call(self, receiver, method, args_json, deposit, gas):
        # A real cross-contract receipt: runs after this call, with predecessor = this contract.
        near.promise_create(receiver, method, args_json, deposit, gas)

    def transfer_then(self, receiver, amount, method, args_json, gas):
        # The transfer, then a callback on this contract that sees whether it went through.
        promise = near.promise_batch_create(receiver)
        near.promise_batch_action_transfer(promise, amount)
        near.promise_then(promise, near.current_account_id(), method, args_json, 0, gas)

    def promise_count(self):
        return near.promise_results_count()

    def promise_ok(self, index):
        status, _data = near.promise_result(index)
        return status == 1

    def log(self, message):
        near.log_utf8(message)

    def panic(self, message):
        near.panic_utf8(message)


ENV = NearEnv()


def _run(method):
    # A crash panics with the same "Unexpected error: <type>: <text>" form as the CPython host
    # (mycel_subnet/near/host.run_method), not with a bare guest panic and a traceback in the logs.
    try:
        raw = near.input()
        args = json.loads(raw.decode("utf-8")) if raw else {}
        result = registry_logic.dispatch(ENV, method, args)
        # A Raw result is JSON text already (stored records returned as they are).
        text = result.raw_json if hasattr(result, "raw_json") else json.dumps(result)
    except Exception as exc:
        near.panic_utf8("Unexpected error: " + type(exc).__name__ + ": " + str(exc))
        return
    near.value_return(text)


@near.export
def init():
    _run("init")


@near.export
def get_config():
    _run("get_config")


@near.export
def set_fee_rate():
    _run("set_fee_rate")


@near.export
def register_pattern():
    _run("register_pattern")


@near.export
def get_pattern():
    _run("get_pattern")


@near.export
def get_pattern_by_hash():
    _run("get_pattern_by_hash")


@near.export
def use_pattern():
    _run("use_pattern")


@near.export
def rate_pattern():
    _run("rate_pattern")


@near.export
def find_patterns():
    _run("find_patterns")


@near.export
def withdraw_fees():
    _run("withdraw_fees")


@near.export
def set_policy():
    _run("set_policy")


@near.export
def add_attester():
    _run("add_attester")


@near.export
def remove_attester():
    _run("remove_attester")


@near.export
def remove_pattern():
    _run("remove_pattern")


@near.export
def get_creator():
    _run("get_creator")


@near.export
def attest_pattern():
    _run("attest_pattern")


@near.export
def get_attestations():
    _run("get_attestations")


@near.export
def on_transfer_done():
    _run("on_transfer_done")


@near.export
def get_payout():
    _run("get_payout")


@near.export
def withdraw_payout():
    _run("withdraw_payout")
