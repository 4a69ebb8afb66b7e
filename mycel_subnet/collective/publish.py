"""publish: the pattern's metadata to the content store, then registration on the NEAR registry.

Idempotent by content id: the same pattern published again returns its first registration
(the registry keeps the earliest registration of a hash). Raw usage statistics never leave:
the metadata goes through put_pattern_metadata, which zeroes them or takes a DP release.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal, InvalidOperation

from mycel_subnet.collective.errors import BadInput, Refused, Unavailable, UnknownPatternId
from mycel_subnet.collective.instance import Instance
from mycel_subnet.collective.models import PublishOut
from mycel_subnet.collective.progress import Progress, quiet
from mycel_subnet.collective.resolve import check_id
from mycel_subnet.near.client import RegistryError
from mycel_subnet.near.ledger import ONE_NEAR
from mycel_subnet.near.models import MAX_U128
from mycel_subnet.storage import StorageError
from mycel_subnet.storage.metadata import put_pattern_metadata


def parse_price(value: object) -> int:
    """yoctoNEAR from an integer ("10000") or a NEAR amount with its unit ("0.01NEAR")."""
    text = str(value).strip().replace("_", "")
    try:
        if text.upper().endswith("NEAR"):
            amount = Decimal(text[:-4].strip()) * ONE_NEAR
        else:
            amount = Decimal(text)
    except InvalidOperation:
        raise BadInput(
            f"--price must be yoctoNEAR or an amount like 0.01NEAR: {text!r:.40}"
        ) from None
    if amount != amount.to_integral_value() or not 0 <= amount <= MAX_U128:
        raise BadInput(f"--price must be a whole number of yoctoNEAR >= 0, got {text!r:.40}")
    return int(amount)


async def publish(
    instance: Instance, pattern_id: str, price: object, *, stats=None, progress: Progress = quiet
) -> PublishOut:
    """Publish one of this instance's patterns at `price` yoctoNEAR per use. `stats` is an
    optional DP release of its statistics (mycel_subnet.privacy.dp_stats.StatsRelease)."""
    price_yocto = parse_price(price)
    pattern_id = check_id(pattern_id)
    if pattern_id.isdigit():
        raise BadInput("publish takes the pattern's content id (64 hex), not a registry number")
    store = instance.pattern_store()
    pattern = await asyncio.to_thread(store.get, pattern_id)
    if pattern is None:
        raise UnknownPatternId(f"unknown pattern: {pattern_id} (extract it first)")
    progress("storing the metadata in the content store")
    try:
        cid = await asyncio.to_thread(
            put_pattern_metadata, pattern, instance.content_store(), stats=stats
        )
    except StorageError as exc:
        raise Unavailable(f"the metadata could not be stored: {exc}") from None
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    registry = instance.registry()
    progress(f"registering on the NEAR registry ({instance.network})")
    try:
        entry = await registry.get_pattern_by_hash(pattern.id)
        already = entry is not None
        if entry is None:
            near_id = await registry.register_pattern(pattern.id, cid, pattern.domain, price_yocto)
            entry = await registry.get_pattern(near_id)
    except RegistryError as exc:
        raise Refused(f"the registry refused the pattern: {exc.message}") from None
    if entry is None:
        raise Unavailable("the registry lost the registration it just accepted")
    if entry.creator != instance.account:
        raise Refused(f"pattern {pattern.id} was registered first by {entry.creator}")
    instance.record_published(pattern.id, entry.id, entry.metadata_cid, entry.price_per_use)
    await asyncio.to_thread(store.set_near_id, pattern.id, entry.id)
    return PublishOut(
        pattern_id=pattern.id,
        near_id=entry.id,
        metadata_cid=entry.metadata_cid,
        price=entry.price_per_use,
        network=instance.network,
        already_published=already,
    )
