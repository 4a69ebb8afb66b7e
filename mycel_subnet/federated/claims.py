"""The signed claim behind every federated update: "hotkey M made the update with this sha256,
CID and size for round R of validator V, from the global adapter with this hash".

The transport already signs each response, but that signature covers one HTTP exchange (its
path, body and the request's nonce) and only the validator that asked can check it. The claim
is a small, self-contained message signed with the miner's sr25519 hotkey, so the validator can
publish it (on NEAR, beside the update hash) and anyone can later check which hotkey committed
to which bytes, and that it cannot be replayed into another round, validator or global adapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CLAIM_TAG = "mycel-fl-update-v1"


@dataclass(frozen=True)
class UpdateClaim:
    """What a miner's signature commits to (every field is ASCII without '|')."""

    validator: str  # SS58 hotkey of the validator that ran the round
    miner: str  # SS58 hotkey of the miner
    round: int
    base_hash: str
    global_hash: str
    update_sha256: str
    update_cid: str
    update_size: int

    def message(self) -> bytes:
        fields = (
            CLAIM_TAG, self.validator, self.miner, str(self.round), self.base_hash,
            self.global_hash, self.update_sha256, self.update_cid, str(self.update_size),
        )  # fmt: skip
        for value in fields:
            if "|" in value or not value.isascii():
                raise ValueError(f"claim field {value[:40]!r} must be ASCII without '|'")
        return "|".join(fields).encode("ascii")


def sign_claim(keypair: Any, claim: UpdateClaim) -> str:
    """128 hex characters: the hotkey's sr25519 signature over the claim."""
    if keypair.ss58_address != claim.miner:
        raise ValueError("a claim is signed by its own miner's hotkey")
    return bytes(keypair.sign(claim.message())).hex()


def verify_claim(claim: UpdateClaim, signature_hex: str) -> bool:
    """Whether ``signature_hex`` is the miner's signature over exactly this claim."""
    from bittensor.sp_core import CRYPTO_SR25519
    from bittensor.sp_core import verify as sp_verify

    try:
        signature = bytes.fromhex(signature_hex)
        return bool(sp_verify(claim.message(), signature, claim.miner, CRYPTO_SR25519))
    except ValueError:
        return False
