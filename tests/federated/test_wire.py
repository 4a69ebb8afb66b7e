"""Updates and global adapters as bytes: the sha256 of the bytes is the contribution hash, and
decoding trusts nothing the bytes say (size, names, shapes, values are checked against the
round's adapter), refusing each tampering with a one-line reason naming the tensor."""

import hashlib
import struct

import pytest
import torch

from mycel_subnet.federated.aggregate import UpdateRejected
from mycel_subnet.federated.hashing import GLOBAL_DOMAIN, contribution_hash
from mycel_subnet.federated.wire import decode_state, encode_state, encoded_size

REFERENCE = {
    "layer.0.lora_A.weight": torch.zeros(4, 6),
    "layer.0.lora_B.weight": torch.zeros(6, 4),
    "layer.1.lora_A.weight": torch.zeros(4, 6),
}


def _update(seed: int = 0) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {k: torch.randn(v.shape, generator=gen) for k, v in REFERENCE.items()}


def test_round_trip_is_exact_and_the_bytes_hash_to_the_contribution_hash() -> None:
    update = _update()
    data = encode_state(update)
    assert len(data) == encoded_size(REFERENCE)
    assert hashlib.sha256(data).hexdigest() == contribution_hash(update)
    back = decode_state(data, REFERENCE, who="uid 3")
    assert set(back) == set(update)
    assert all(torch.equal(back[k], update[k]) for k in update)


def test_a_global_adapter_is_not_accepted_as_an_update_nor_the_reverse() -> None:
    as_global = encode_state(_update(), domain=GLOBAL_DOMAIN)
    with pytest.raises(UpdateRejected, match=r"is \d+ bytes|domain tag"):
        decode_state(as_global, REFERENCE, who="uid 1")
    forged = encode_state(_update(), domain=b"mycel-fl-updatX-v1\x00")  # same length, other tag
    assert len(forged) == len(encode_state(_update()))
    with pytest.raises(UpdateRejected, match="domain tag"):
        decode_state(forged, REFERENCE, who="uid 1")


def _tampered(offset_of: str, patch: bytes) -> bytes:
    data = bytearray(encode_state(_update()))
    name = offset_of.encode()
    at = data.index(name)
    data[at : at + len(patch)] = patch
    return bytes(data)


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (encode_state(_update())[:-4], "bytes; this adapter's form is"),
        (encode_state(_update()) + b"\x00" * 4, "bytes; this adapter's form is"),
        (_tampered("layer.1.lora_A", b"layer.9.lora_A"), "layer.1.lora_A.weight"),
        (b"", "0 bytes"),
    ],
    ids=["short", "trailing", "renamed-tensor", "empty"],
)
def test_tampered_bytes_are_refused_naming_what_is_wrong(data: bytes, needle: str) -> None:
    with pytest.raises(UpdateRejected) as info:
        decode_state(data, REFERENCE, who="uid 7")
    message = str(info.value)
    assert "uid 7" in message and needle in message and "\n" not in message


def test_a_changed_shape_of_the_same_size_is_refused() -> None:
    """4x6 sent as 6x4: the same byte count, a different header."""
    update = _update()
    update["layer.0.lora_A.weight"] = update["layer.0.lora_A.weight"].reshape(6, 4)
    with pytest.raises(UpdateRejected, match="layer.0.lora_A.weight"):
        decode_state(encode_state(update), REFERENCE, who="uid 2")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_values_are_refused(bad: float) -> None:
    data = bytearray(encode_state(_update()))
    data[-4:] = struct.pack("<f", bad)  # the last value of the last tensor
    with pytest.raises(UpdateRejected, match="layer.1.lora_A.weight.* contains NaN or infinite"):
        decode_state(bytes(data), REFERENCE, who="uid 2")


def test_not_bytes_is_refused() -> None:
    with pytest.raises(UpdateRejected, match="not bytes"):
        decode_state("hello", REFERENCE, who="uid 2")  # type: ignore[arg-type]
