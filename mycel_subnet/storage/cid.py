"""Content identifiers computed exactly as kubo's `ipfs add` computes them.

CIDv0: UnixFS dag-pb, sha2-256, 256 KiB fixed chunks, balanced layout (174 links per node), leaves
wrapped in dag-pb; printed in base58btc ("Qm..."). That is kubo's default.
CIDv1: the same DAG with raw leaves (`ipfs add --cid-version=1`, which implies raw leaves); content
of one chunk or less is a single raw block; printed in base32 lower ("b...").

The DAG hashing itself is done by aleph-cid (Rust), checked in tests against real kubo 0.22.
Parsing is implemented here because the CID strings come from strangers: each refusal names the
problem, and only the forms kubo prints are accepted (base58btc v0, base32-lower v1, sha2-256,
raw or dag-pb codec), which is also what `protocol.pattern.Cid` admits.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Literal

import aleph_cid
import base58

from mycel_subnet.storage.errors import CidError

CHUNK_SIZE = 256 * 1024
"""kubo's default chunker: size-262144."""

CODEC_RAW = 0x55
CODEC_DAG_PB = 0x70
MH_SHA2_256 = 0x12
_CODEC_NAMES = {CODEC_RAW: "raw", CODEC_DAG_PB: "dag-pb"}
_MAX_CID_LEN = 100  # protocol.limits.MAX_CID_LEN

CidVersion = Literal[0, 1]


@dataclass(frozen=True)
class ParsedCid:
    """The parts of a CID that matter here."""

    version: int
    codec: str  # "raw" or "dag-pb"
    digest: bytes  # the sha2-256 digest the multihash carries
    text: str  # the CID as given (already canonical: kubo's printed form)


def compute_cid(data: bytes, version: CidVersion = 1) -> str:
    """The CID kubo prints for `ipfs add` of `data` (v1: `--cid-version=1`, raw leaves)."""
    if version not in (0, 1):
        raise CidError(f"CID version must be 0 or 1, not {version!r}")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"compute_cid needs bytes, not {type(data).__name__}")
    hasher = new_hasher(version)
    hasher.update(bytes(data))
    return hasher.finalize()


def new_hasher(version: CidVersion = 1) -> aleph_cid.CidHasher:
    """A streaming hasher (update(bytes)... finalize()) for content too large to hold at once."""
    if version == 0:
        return aleph_cid.CidHasher.for_ipfs()
    if version == 1:
        return aleph_cid.CidHasher.for_ipfs_v1_raw_leaves()
    raise CidError(f"CID version must be 0 or 1, not {version!r}")


def hasher_for(cid: str) -> aleph_cid.CidHasher:
    """A hasher of the same flavour (version, leaves) as `cid`, to verify content against it."""
    parsed = parse_cid(cid)
    return new_hasher(0 if parsed.version == 0 else 1)


def cid_of_same_kind(data: bytes, cid: str) -> str:
    """The CID of `data` computed the way `cid` was, so the two can be compared."""
    hasher = hasher_for(cid)
    hasher.update(bytes(data))
    return hasher.finalize()


def _read_varint(buf: bytes, pos: int, what: str, cid: str) -> tuple[int, int]:
    value = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise CidError(f"CID {cid!r} is truncated inside its {what}")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise CidError(f"CID {cid!r} has an overlong varint in its {what}")


def parse_cid(cid: object) -> ParsedCid:
    """Parse a CID string; raise CidError naming what is wrong with it."""
    if not isinstance(cid, str):
        raise CidError(f"a CID must be a string, not {type(cid).__name__}")
    if not cid:
        raise CidError("CID is empty")
    if len(cid) > _MAX_CID_LEN:
        raise CidError(f"CID is {len(cid)} characters long; at most {_MAX_CID_LEN} are accepted")
    if cid != cid.strip():
        raise CidError(f"CID {cid!r} has leading or trailing whitespace")
    if cid.startswith("Qm"):
        return _parse_v0(cid)
    if cid[0] == "b":
        return _parse_v1(cid)
    raise CidError(
        f"CID {cid!r} is neither a CIDv0 (base58btc, 'Qm...') nor a base32-lower CIDv1 ('b...');"
        " other multibase encodings are not accepted"
    )


def _parse_v0(cid: str) -> ParsedCid:
    if len(cid) != 46:
        raise CidError(f"CIDv0 {cid!r} must be 46 characters, not {len(cid)}")
    try:
        raw = base58.b58decode(cid)
    except ValueError:
        raise CidError(f"CIDv0 {cid!r} contains characters outside base58btc") from None
    if len(raw) != 34 or raw[0] != MH_SHA2_256 or raw[1] != 32:
        raise CidError(f"CIDv0 {cid!r} is not a sha2-256 multihash")
    return ParsedCid(version=0, codec="dag-pb", digest=raw[2:], text=cid)


def _parse_v1(cid: str) -> ParsedCid:
    body = cid[1:]
    if body != body.lower():
        raise CidError(f"CIDv1 {cid!r} must be base32 lower case, as kubo prints it")
    padded = body.upper() + "=" * (-len(body) % 8)
    try:
        raw = base64.b32decode(padded)
    except (binascii.Error, ValueError):
        raise CidError(f"CIDv1 {cid!r} contains characters outside base32 (a-z, 2-7)") from None
    version, pos = _read_varint(raw, 0, "version", cid)
    if version != 1:
        raise CidError(f"CID {cid!r} declares version {version}; a 'b...' CID must be version 1")
    codec, pos = _read_varint(raw, pos, "codec", cid)
    if codec not in _CODEC_NAMES:
        raise CidError(
            f"CID {cid!r} has codec 0x{codec:x}; only raw (0x55) and dag-pb (0x70) are accepted"
        )
    mh_code, pos = _read_varint(raw, pos, "multihash code", cid)
    if mh_code != MH_SHA2_256:
        raise CidError(f"CID {cid!r} uses hash 0x{mh_code:x}; only sha2-256 (0x12) is accepted")
    length, pos = _read_varint(raw, pos, "multihash length", cid)
    digest = raw[pos:]
    if length != 32 or len(digest) != 32:
        raise CidError(f"CID {cid!r} carries a {len(digest)}-byte digest; sha2-256 needs 32")
    canonical = "b" + base64.b32encode(raw).decode("ascii").lower().rstrip("=")
    if canonical != cid:
        raise CidError(f"CID {cid!r} is not in canonical base32 form (expected {canonical!r})")
    return ParsedCid(version=1, codec=_CODEC_NAMES[codec], digest=digest, text=cid)


def validate_cid(cid: object) -> str:
    """The CID itself if it parses; CidError otherwise. For use as a one-line guard."""
    return parse_cid(cid).text
