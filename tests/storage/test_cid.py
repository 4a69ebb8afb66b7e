"""CID computation and parsing: kubo-exact values, a spec-built cross-check, clear refusals."""

from __future__ import annotations

import hashlib
import os

import pytest

from mycel_subnet.storage.cid import (
    CHUNK_SIZE,
    compute_cid,
    new_hasher,
    parse_cid,
)
from mycel_subnet.storage.errors import CidError
from protocol.pattern import ModelAdapter
from tests.storage.unixfs_ref import unixfs_cid

SIZES = [0, 1, 1000, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 4 * CHUNK_SIZE + 7]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("version", [0, 1])
def test_compute_cid_matches_spec_built_dag(size, version):
    """aleph-cid's DAG equals one built here from the UnixFS/dag-pb specs (v0 is also kubo's)."""
    data = os.urandom(size)
    assert compute_cid(data, version) == unixfs_cid(data, version)


def test_small_v1_is_a_raw_block_of_sha256():
    """Up to one chunk, a kubo CIDv1 with raw leaves is the raw codec over sha2-256 of the bytes."""
    data = os.urandom(CHUNK_SIZE)
    parsed = parse_cid(compute_cid(data, 1))
    assert (parsed.version, parsed.codec) == (1, "raw")
    assert parsed.digest == hashlib.sha256(data).digest()
    big = parse_cid(compute_cid(data + b"x", 1))
    assert big.codec == "dag-pb"


def test_streaming_hasher_equals_one_shot():
    data = os.urandom(3 * CHUNK_SIZE + 5)
    for version in (0, 1):
        hasher = new_hasher(version)
        for i in range(0, len(data), 100_000):  # boundaries that do not align with chunks
            hasher.update(data[i : i + 100_000])
        assert hasher.finalize() == compute_cid(data, version)


def test_computed_cids_are_accepted_by_the_protocol_model():
    for version in (0, 1):
        cid = compute_cid(os.urandom(10), version)
        assert ModelAdapter(base_model="m", adapter_cid=cid, adapter_hash="0" * 64).adapter_cid


def test_versions_differ_and_bad_version_is_refused():
    assert compute_cid(b"x", 0).startswith("Qm")
    assert compute_cid(b"x", 1).startswith("bafkrei")
    with pytest.raises(CidError, match="version must be 0 or 1"):
        compute_cid(b"x", 2)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("", "empty"),
        ("Qmabc", "46 characters"),
        ("Qm" + "0" * 44, "base58btc"),
        ("bafyBEI", "lower case"),
        ("bafy!!", "outside base32"),
        ("zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA", "neither a CIDv0"),
        ("b" + "a" * 58, "version 0"),
        (" " + "Qm" + "a" * 44, "whitespace"),
        ("Q" * 200, "at most 100"),
        (42, "must be a string"),
    ],
)
def test_parse_cid_names_the_problem(bad, problem):
    with pytest.raises(CidError, match=problem):
        parse_cid(bad)


def test_parse_cid_refuses_other_hashes_and_codecs():
    import base64

    def v1(raw: bytes) -> str:
        return "b" + base64.b32encode(raw).decode().lower().rstrip("=")

    digest = hashlib.sha256(b"x").digest()
    with pytest.raises(CidError, match="codec 0x71"):  # dag-cbor
        parse_cid(v1(b"\x01\x71\x12\x20" + digest))
    with pytest.raises(CidError, match="hash 0x13"):  # sha2-512
        parse_cid(v1(b"\x01\x55\x13\x20" + digest))
    with pytest.raises(CidError, match="32"):
        parse_cid(v1(b"\x01\x55\x12\x10" + digest[:16]))
    good = v1(b"\x01\x55\x12\x20" + digest)
    assert parse_cid(good).digest == digest
    with pytest.raises(CidError, match="canonical"):
        parse_cid(good[:-1] + chr(ord(good[-1]) + 1))  # non-zero padding bits
