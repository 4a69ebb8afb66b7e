"""Contribution hash of an adapter update: sha256 over a canonical byte form, so the same
update hashes the same on every node and any change to a key, shape or value changes it. This
is the value recorded on NEAR / Bittensor as proof of which update a client contributed."""

from __future__ import annotations

import hashlib
import struct

import torch

DOMAIN = b"mycel-fl-update-v1\x00"
GLOBAL_DOMAIN = b"mycel-fl-global-v1\x00"  # a round's global adapter: never mistaken for an update
BASE_DOMAIN = b"mycel-fl-base-v1\x00"  # the frozen base weights a round pins by hash


def canonical_bytes(update: dict[str, torch.Tensor], domain: bytes = DOMAIN) -> bytes:
    """Keys sorted; per tensor: key length + UTF-8 key, rank + dims (uint64 LE), then the values
    as little-endian float32 in row-major order. Lengths make the framing unambiguous. These
    are also the bytes an update or a global adapter travels as (mycel_subnet.federated.wire)."""
    out = bytearray(domain)
    out += struct.pack("<Q", len(update))
    for key in sorted(update):
        tensor = update[key]
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"update tensor {key!r} is a {type(tensor).__name__}, not a tensor")
        name = key.encode("utf-8")
        out += struct.pack("<Q", len(name)) + name
        out += struct.pack("<Q", tensor.dim()) + struct.pack(f"<{tensor.dim()}Q", *tensor.shape)
        values = tensor.detach().to("cpu", torch.float32).contiguous().numpy()
        out += values.astype("<f4", copy=False).tobytes(order="C")
    return bytes(out)


def contribution_hash(update: dict[str, torch.Tensor], domain: bytes = DOMAIN) -> str:
    """Hex sha256 of the canonical serialisation of ``update`` (the sha256 of its wire bytes)."""
    return hashlib.sha256(canonical_bytes(update, domain)).hexdigest()
