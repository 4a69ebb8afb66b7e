"""FlRounds: the near-sdk-py (nearc) entry module.

Each exported function reads its JSON arguments, hands them to fl_rounds_logic.dispatch with a
NearEnv bound to the `near` host module of nearc's MicroPython runtime, and returns the result
as JSON. All contract rules live in fl_rounds_logic.py, which CPython tests run unchanged.
"""

import gc
import json

import fl_rounds_logic
import near

# nearc 0.10's runtime cannot collect safely: its stack scan starts from an uninitialised stack
# base and runs off the end of linear memory (a trap), and values held in wasm locals are not
# roots anyway. So never collect: build.sh gives the heap room for a call's garbage, and a call
# that still runs out panics cleanly ("Unexpected error: MemoryError") instead of trapping.
gc.disable()


class NearEnv:
    """The env interface of fl_rounds_logic over NEAR host functions."""

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
        result = fl_rounds_logic.dispatch(ENV, method, args)
    except Exception as exc:
        near.panic_utf8("Unexpected error: " + type(exc).__name__ + ": " + str(exc))
        return
    near.value_return(json.dumps(result))


@near.export
def init():
    _run("init")


@near.export
def get_config():
    _run("get_config")


@near.export
def add_coordinator():
    _run("add_coordinator")


@near.export
def remove_coordinator():
    _run("remove_coordinator")


@near.export
def record_round():
    _run("record_round")


@near.export
def get_round():
    _run("get_round")


@near.export
def get_last():
    _run("get_last")


@near.export
def get_update():
    _run("get_update")


@near.export
def get_miner():
    _run("get_miner")
