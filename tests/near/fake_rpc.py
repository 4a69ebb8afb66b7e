"""A FAKE NEAR JSON-RPC server over the local ledger, for tests only.

No NEAR sandbox (neard) can run on these machines, so this speaks just enough of NEAR's real
JSON-RPC shapes for py-near's code path: `status`, `query` (view_access_key, call_function),
`broadcast_tx_commit` and `send_tx`. Transactions arrive as real borsh-encoded, ed25519-signed
SignedTransactions built by py-near; the server decodes them, checks the signature and the
access-key nonce, and executes each FunctionCall on the LocalLedger.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from dataclasses import dataclass
from typing import Any

import base58
from fastapi import FastAPI, Request
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from mycel_subnet.near.host import ContractPanic
from mycel_subnet.near.ledger import LedgerError, LocalLedger

CHAIN_ID = "mycel-fake-localnet"


@dataclass
class FunctionCall:
    method_name: str
    args: bytes
    gas: int
    deposit: int


@dataclass
class SignedTx:
    signer_id: str
    public_key: bytes
    nonce: int
    receiver_id: str
    block_hash: bytes
    actions: list[FunctionCall | int]  # FunctionCall, or the action tag we do not support
    signature: bytes
    tx_bytes: bytes


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError("truncated transaction")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u32(self) -> int:
        return int(struct.unpack("<I", self.take(4))[0])

    def u64(self) -> int:
        return int(struct.unpack("<Q", self.take(8))[0])

    def u128(self) -> int:
        return int.from_bytes(self.take(16), "little")

    def string(self) -> str:
        return self.take(self.u32()).decode("utf-8")


def decode_signed_tx(raw: bytes) -> SignedTx:
    """Borsh-decode a SignedTransaction (Transaction V0 + ed25519 signature)."""
    r = _Reader(raw)
    signer_id = r.string()
    if r.u8() != 0:
        raise ValueError("only ed25519 keys are supported")
    public_key = r.take(32)
    nonce = r.u64()
    receiver_id = r.string()
    block_hash = r.take(32)
    actions: list[FunctionCall | int] = []
    for _ in range(r.u32()):
        tag = r.u8()
        if tag == 2:
            method = r.string()
            args = r.take(r.u32())
            actions.append(FunctionCall(method, args, r.u64(), r.u128()))
        else:
            actions.append(tag)
            break  # cannot skip an unknown action's body; refuse the transaction below
    tx_end = r.pos
    if r.u8() != 0:
        raise ValueError("only ed25519 signatures are supported")
    signature = r.take(64)
    return SignedTx(
        signer_id, public_key, nonce, receiver_id, block_hash, actions, signature, raw[:tx_end]
    )


def _pk_text(public_key: bytes) -> str:
    return "ed25519:" + base58.b58encode(public_key).decode()


def _outcome(id_: str, executor: str, status: dict[str, Any], logs: list[str]) -> dict[str, Any]:
    return {
        "id": id_,
        "block_hash": base58.b58encode(b"\x01" * 32).decode(),
        "outcome": {
            "logs": logs,
            "metadata": {"gas_profile": [], "version": 3},
            "receipt_ids": [],
            "status": status,
            "tokens_burnt": "0",
            "gas_burnt": 0,
            "executor_id": executor,
        },
    }


def build_app(ledger: LocalLedger) -> FastAPI:
    """The fake RPC as an ASGI app on one POST route, like a NEAR node's."""
    app = FastAPI()

    def block() -> dict[str, Any]:
        height = ledger.block_height()
        digest = hashlib.sha256(str(height).encode()).digest()
        return {"block_height": height, "block_hash": base58.b58encode(digest).decode()}

    def status() -> dict[str, Any]:
        b = block()
        return {
            "chain_id": CHAIN_ID,
            "sync_info": {
                "latest_block_hash": b["block_hash"],
                "latest_block_height": b["block_height"],
            },
        }

    def query(params: dict[str, Any]) -> dict[str, Any]:
        kind = params.get("request_type")
        if kind == "view_access_key":
            key = params["public_key"]
            key = key if key.startswith("ed25519:") else "ed25519:" + key
            nonce = ledger.access_key_nonce(params["account_id"], key)
            if nonce is None:
                return {"error": f"access key {params['public_key']} does not exist", **block()}
            return {"nonce": nonce, "permission": "FullAccess", **block()}
        if kind == "call_function":
            args = json.loads(base64.b64decode(params["args_base64"]) or b"{}")
            try:
                result = ledger.view(params["account_id"], params["method_name"], args)
            except ContractPanic as exc:
                error = (
                    "wasm execution failed with error: FunctionCallError(ExecutionError("
                    f'"Smart contract panicked: {exc.message}"))'
                )
                return {"error": error, "logs": [], **block()}
            body = list(json.dumps(result).encode())
            return {"result": body, "logs": [], **block()}
        raise ValueError(f"unsupported query {kind}")

    def execute(signed_b64: str) -> dict[str, Any]:
        raw = base64.b64decode(signed_b64)
        tx = decode_signed_tx(raw)
        tx_hash = hashlib.sha256(tx.tx_bytes).digest()
        VerifyKey(tx.public_key).verify(tx_hash, tx.signature)
        ledger.use_nonce(tx.signer_id, _pk_text(tx.public_key), tx.nonce)
        if len(tx.actions) != 1 or not isinstance(tx.actions[0], FunctionCall):
            raise ValueError("the fake RPC runs exactly one FunctionCall per transaction")
        call = tx.actions[0]
        logs: list[str] = []
        try:
            args = json.loads(call.args or b"{}")
            outcome = ledger.call(
                tx.signer_id, tx.receiver_id, call.method_name, args, call.deposit
            )
            value = base64.b64encode(json.dumps(outcome.result).encode()).decode()
            status: dict[str, Any] = {"SuccessValue": value}
            logs = outcome.logs
        except ContractPanic as exc:
            error = {"ExecutionError": f"Smart contract panicked: {exc.message}"}
            kind = {"FunctionCallError": error}
            status = {"Failure": {"ActionError": {"index": 0, "kind": kind}}}
        hash_b58 = base58.b58encode(tx_hash).decode()
        return {
            "status": status,
            "transaction": {
                "hash": hash_b58,
                "public_key": _pk_text(tx.public_key),
                "receiver_id": tx.receiver_id,
                "signature": "ed25519:" + base58.b58encode(tx.signature).decode(),
                "signer_id": tx.signer_id,
                "nonce": tx.nonce,
                "actions": [],
            },
            "transaction_outcome": _outcome(hash_b58, tx.signer_id, {"SuccessReceiptId": ""}, []),
            "receipts_outcome": [_outcome(hash_b58 + "-r", tx.receiver_id, status, logs)],
        }

    @app.post("/")
    async def rpc(request: Request) -> dict[str, Any]:
        body = await request.json()
        method, params, id_ = body.get("method"), body.get("params"), body.get("id")
        try:
            if method == "status":
                result = status()
            elif method == "query":
                result = query(params)
            elif method == "broadcast_tx_commit":
                result = execute(params[0])
            elif method == "send_tx":
                result = execute(params["signed_tx_base64"])
            else:
                raise ValueError(f"method {method} is not faked")
        except (ValueError, LedgerError, BadSignatureError, KeyError) as exc:
            error = {"name": "REQUEST_VALIDATION_ERROR", "info": {}}
            data = f"{type(exc).__name__}: {exc}"
            return {"jsonrpc": "2.0", "id": id_, "error": {"cause": error, "data": data}}
        return {"jsonrpc": "2.0", "id": id_, "result": result}

    return app
