"""What the validator does on NEAR, built from its settings: the reward mirror (with binding
confirmation and reset-safe epochs) and organic pattern verification, sharing one client.

Verification is on by default whenever a NEAR account is configured (`near.account_id`):
that account signs the attestations and must be one of the registry's attesters
(`add_attester` by the registry's owner), or every attestation is refused and logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mycel_subnet.validator.bindings import BindingBook
from mycel_subnet.validator.mirror import MirrorChain, build_mirror, open_near_client
from mycel_subnet.validator.verification import PatternVerifier, VerifyPolicy
from mycel_subnet.validator.verify_store import VERIFY_FILE, VerificationStore

log = logging.getLogger(__name__)


@dataclass
class NearSide:
    mirror: MirrorChain
    verifier: PatternVerifier | None = None


def verify_policy(vs: Any) -> VerifyPolicy:
    """The VerifyPolicy of a ValidatorSettings."""
    return VerifyPolicy(
        per_step=vs.verify_per_step, miners=vs.verify_miners,
        min_calibration=vs.verify_min_calibration, recheck_s=vs.verify_recheck_s,
        attest_interval_s=vs.verify_attest_interval_s, timeout_s=vs.timeout_s,
        max_response_bytes=vs.max_response_bytes,
    )  # fmt: skip


def build_near_side(settings: Any, state_dir: Path, wallet: Any) -> NearSide:
    """The mirror always (local log at least); the verifier when it is on and can attest."""
    client = open_near_client(settings.near)
    bindings = None
    if client is not None and callable(getattr(client, "get_binding", None)):
        bindings = BindingBook(client)
    mirror = build_mirror(state_dir, settings.near, client=client, bindings=bindings)
    vs = settings.validator
    if client is None or not vs.verify_patterns or vs.verify_per_step == 0:
        return NearSide(mirror)
    if not callable(getattr(client, "attest_pattern", None)):
        log.warning("pattern verification off: this NEAR client cannot attest_pattern")
        return NearSide(mirror)
    from mycel_subnet.storage.factory import open_store

    verifier = PatternVerifier(
        client, client, open_store(settings.ipfs),
        VerificationStore(Path(state_dir) / VERIFY_FILE), wallet=wallet,
        policy=verify_policy(vs),
        bound_account=bindings.account_of if bindings is not None else None,
        log_dir=Path(state_dir),
    )  # fmt: skip
    log.info("verifying %d registry patterns per step and attesting as %s",
             vs.verify_per_step, settings.near.account_id)  # fmt: skip
    return NearSide(mirror, verifier)
