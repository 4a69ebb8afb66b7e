"""rate and earnings: feedback to the registry, and what this instance's patterns earned.

Earnings per published pattern come from its registry entry (uses; gross = everything paid
for it). The protocol fee is gross x fee_bps / 10,000 rounded down; use_pattern rounds each
payment's fee down, so over several payments the figure is exact whenever each payment x
fee_bps is a multiple of 10,000 (any price in steps of 20 yocto at the default 5%), and off by
under one yocto per use otherwise. Net is gross less the fee: what reached the creator.
"""

from __future__ import annotations

from mycel_subnet.collective.errors import BadInput, Unavailable, UnknownPatternId
from mycel_subnet.collective.find import discovery
from mycel_subnet.collective.instance import Instance
from mycel_subnet.collective.models import EarningsOut, PatternEarnings, RateOut
from mycel_subnet.collective.resolve import check_id, resolve
from mycel_subnet.near.client import RegistryError
from mycel_subnet.patterns import UnknownPattern

FEE_DENOMINATOR = 10_000


async def rate(instance: Instance, pattern_id: str, *, success: bool, rating: int) -> RateOut:
    """Count the outcome locally and rate on the registry (one rating per paid use)."""
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise BadInput(f"--rating must be a whole number 1-5, got {rating!r}")
    found = await resolve(instance, check_id(pattern_id))
    if found.pattern is None:
        raise UnknownPatternId(f"pattern {pattern_id} is not in the local store: use it first")
    try:
        outcome = await discovery(instance).record_success(
            found.pattern.id, success=success, rating=rating
        )
    except UnknownPattern:
        raise UnknownPatternId(f"unknown pattern: {pattern_id}") from None
    reputation = None
    if outcome.near_id is not None:
        entry = await instance.registry().get_pattern(outcome.near_id)
        reputation = entry.reputation if entry else None
    return RateOut(
        pattern_id=outcome.pattern_id,
        near_id=outcome.near_id,
        near_rated=outcome.near_rated,
        reputation=reputation,
        near_error=outcome.near_error,
    )


async def earnings(instance: Instance) -> EarningsOut:
    """Uses, gross, protocol fee, net and reputation, per published pattern and in total."""
    registry = instance.registry()
    try:
        fee_bps = (await registry.get_config()).fee_bps
        rows = []
        for pattern_id, near_id, _cid, _price in instance.published():
            entry = await registry.get_pattern(near_id)
            if entry is None:
                continue
            fee = entry.total_earned * fee_bps // FEE_DENOMINATOR
            rows.append(
                PatternEarnings(
                    pattern_id=pattern_id,
                    near_id=near_id,
                    uses=entry.usage_count,
                    gross=entry.total_earned,
                    protocol_fee=fee,
                    net=entry.total_earned - fee,
                    reputation=entry.reputation,
                )
            )
        reputation = (await registry.get_reputation(instance.account)).composite
    except RegistryError as exc:
        raise Unavailable(f"the registry did not answer: {exc.message}") from None
    return EarningsOut(
        account=instance.account,
        network=instance.network,
        fee_bps=fee_bps,
        patterns=rows,
        total_uses=sum(r.uses for r in rows),
        total_gross=sum(r.gross for r in rows),
        total_protocol_fee=sum(r.protocol_fee for r in rows),
        total_net=sum(r.net for r in rows),
        reputation=reputation,
    )
