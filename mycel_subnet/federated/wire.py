"""Adapter tensors as bytes and back: the form updates and global adapters travel in by CID.

The bytes are `hashing.canonical_bytes`, so the sha256 of what is stored is the contribution
hash itself. Decoding never trusts a length or a name from the bytes: the layout is fixed by a
reference adapter (the round's global, whose keys and shapes both sides know), so the decoder
checks the size exactly, compares every header byte with the expected one and reads only the
float32 values. No pickle, no torch.load, nothing executable.
"""

from __future__ import annotations

import struct

import numpy as np
import torch

from mycel_subnet.federated.adapter import AdapterState
from mycel_subnet.federated.aggregate import UpdateRejected
from mycel_subnet.federated.hashing import DOMAIN, canonical_bytes


def encode_state(state: AdapterState, *, domain: bytes = DOMAIN) -> bytes:
    """The wire bytes of an adapter state (an update by default)."""
    return canonical_bytes(state, domain)


def _layout(reference: AdapterState, domain: bytes) -> list[tuple[str, bytes, int]]:
    """(key, expected header bytes before its values, number of values) per tensor."""
    out = []
    first = bytearray(domain) + struct.pack("<Q", len(reference))
    for i, key in enumerate(sorted(reference)):
        shape = tuple(reference[key].shape)
        name = key.encode("utf-8")
        header = bytearray(first if i == 0 else b"")
        header += struct.pack("<Q", len(name)) + name
        header += struct.pack("<Q", len(shape)) + struct.pack(f"<{len(shape)}Q", *shape)
        out.append((key, bytes(header), int(reference[key].numel())))
    return out


def encoded_size(reference: AdapterState, *, domain: bytes = DOMAIN) -> int:
    """The exact byte size of any state with the reference's keys and shapes."""
    return sum(len(header) + 4 * count for _, header, count in _layout(reference, domain))


def decode_state(
    data: bytes, reference: AdapterState, *, who: str, domain: bytes = DOMAIN
) -> AdapterState:
    """Tensors from wire bytes laid out like ``reference``; UpdateRejected naming ``who`` (and
    the tensor) when the size, a header byte or a value is wrong."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise UpdateRejected(who, f"is a {type(data).__name__}, not bytes")
    view = memoryview(data)
    expected = encoded_size(reference, domain=domain)
    if len(view) != expected:
        raise UpdateRejected(who, f"is {len(view)} bytes; this adapter's form is {expected}")
    if bytes(view[: len(domain)]) != domain:
        raise UpdateRejected(who, "does not start with the expected domain tag (wrong kind?)")
    out: AdapterState = {}
    at = 0
    for key, header, count in _layout(reference, domain):
        if bytes(view[at : at + len(header)]) != header:
            raise UpdateRejected(who, "has a header that does not match the adapter", key)
        at += len(header)
        values = np.frombuffer(view[at : at + 4 * count], dtype="<f4", count=count)
        at += 4 * count
        if not np.isfinite(values).all():
            raise UpdateRejected(who, "contains NaN or infinite values", key)
        tensor = torch.from_numpy(values.astype(np.float32, copy=True))
        out[key] = tensor.reshape(reference[key].shape)
    return out
