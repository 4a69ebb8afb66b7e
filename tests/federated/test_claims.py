"""The miner's signed update claim: real sr25519 hotkeys. It verifies for exactly the claim
signed, and changing any field (another round, validator, global adapter, update, size) or
the signer breaks it, so a claim recorded on NEAR can be checked by anyone later."""

from dataclasses import replace

import pytest

from mycel_subnet.federated.claims import UpdateClaim, sign_claim, verify_claim
from tests.miner.harness import make_hotkey


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("claims")
    return make_hotkey(tmp, "miner").hotkey, make_hotkey(tmp, "other").hotkey


def _claim(miner: str) -> UpdateClaim:
    return UpdateClaim(
        validator="5F3sa2TJAWMqDhXG6jhV4N8ko9SxwGy8TpaNS1repo5EYjQX",
        miner=miner,
        round=3,
        base_hash="b" * 64,
        global_hash="a" * 64,
        update_sha256="c" * 64,
        update_cid="bafkreigyw6btedv3p7mw46em3x42rmjdvp7odi4kw2iup3psxdjrvtazii",
        update_size=20955,
    )


def test_a_signed_claim_verifies(keys) -> None:
    miner, _ = keys
    claim = _claim(miner.ss58_address)
    signature = sign_claim(miner, claim)
    assert len(signature) == 128 and verify_claim(claim, signature)


@pytest.mark.parametrize(
    "change",
    [
        {"round": 4},
        {"validator": "5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw"},
        {"global_hash": "d" * 64},
        {"base_hash": "e" * 64},
        {"update_sha256": "f" * 64},
        {"update_cid": "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"},
        {"update_size": 20956},
    ],
    ids=lambda c: next(iter(c)),
)
def test_any_other_claim_fails_with_that_signature(keys, change) -> None:
    miner, _ = keys
    claim = _claim(miner.ss58_address)
    signature = sign_claim(miner, claim)
    assert not verify_claim(replace(claim, **change), signature)


def test_another_hotkey_cannot_sign_for_the_miner(keys) -> None:
    miner, other = keys
    claim = _claim(miner.ss58_address)
    with pytest.raises(ValueError, match="its own miner"):
        sign_claim(other, claim)
    # a signature by the other key over the claim's exact bytes still does not verify
    forged = bytes(other.sign(claim.message())).hex()
    assert not verify_claim(claim, forged)


@pytest.mark.parametrize("bad", ["", "zz" * 64, "00" * 64, "ab" * 63])
def test_malformed_signatures_are_false_not_errors(keys, bad) -> None:
    miner, _ = keys
    assert verify_claim(_claim(miner.ss58_address), bad) is False


def test_a_field_that_could_shift_the_framing_is_refused(keys) -> None:
    miner, _ = keys
    with pytest.raises(ValueError, match="without '\\|'"):
        replace(_claim(miner.ss58_address), update_cid="bafy|3").message()
