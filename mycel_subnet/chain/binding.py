"""The statement a miner's hotkey signs to bind itself to a NEAR account, and its check.

The NEAR reputation contract cannot verify sr25519 (no host function for it), so the binding is
two-sided: the NEAR account submits `bind_hotkey(hotkey, signature)` itself (only that
account's own call can name it), and a validator verifies the hotkey's signature over
`binding_statement(account, hotkey)` off-chain before it confirms. The statement names both
sides and a version, so a signature for one account can never confirm a binding to another,
and a signature made for anything else never verifies here.
"""

from __future__ import annotations

import re
from typing import Any

from bittensor import sp_core

STATEMENT_PREFIX = "mycel-bind:v1"
SIGNATURE_HEX = re.compile(r"^(0x)?[0-9a-fA-F]{128}$")


def binding_statement(account: str, hotkey: str) -> str:
    """What the hotkey signs: `mycel-bind:v1:<near_account>:<hotkey_ss58>`."""
    return f"{STATEMENT_PREFIX}:{account}:{hotkey}"


def sign_binding(keypair: Any, account: str) -> str:
    """The hotkey's signature of the statement for `account`, as 0x-prefixed hex."""
    message = binding_statement(account, keypair.ss58_address).encode("utf-8")
    return "0x" + bytes(keypair.sign(message)).hex()


def binding_signature_ok(account: str, hotkey: str, signature: str) -> bool:
    """Whether `signature` (hex, 64 bytes) is `hotkey`'s sr25519 signature of the statement
    binding it to `account`. Malformed input is simply not a valid signature."""
    if not isinstance(signature, str) or not SIGNATURE_HEX.match(signature):
        return False
    raw = bytes.fromhex(signature.removeprefix("0x"))
    message = binding_statement(account, hotkey).encode("utf-8")
    try:
        return bool(sp_core.verify(message, raw, hotkey, sp_core.CRYPTO_SR25519))
    except (ValueError, TypeError):  # an undecodable hotkey address
        return False
