"""publish-adapter: a trained peft LoRA folder becomes a `model_adapter` pattern and is published.

The archive goes to the content store by CID (mycel_subnet.adapters.package_adapter: weights
hashed, config normalised, byte-for-byte reproducible), a LearnedPattern with that ModelAdapter
solution goes into this instance's store, and `publish` registers it, idempotent by content id
(the same weights, base, trigger and domain publish once). What is shared is the weights: an
adapter trained on private data should be trained with DP (mycel_subnet/federated, Opacus). The
trigger and requirements are typed by the publisher and refused when they hold an email, phone
number, key or other value the PII detectors find.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from mycel_subnet.adapters import AdapterError, package_adapter
from mycel_subnet.collective.adapter_use import loadable_here
from mycel_subnet.collective.errors import BadInput, Unavailable
from mycel_subnet.collective.instance import Instance
from mycel_subnet.collective.models import PublishOut
from mycel_subnet.collective.progress import Progress, quiet
from mycel_subnet.collective.publish import parse_price, publish
from mycel_subnet.privacy.recognisers import find_spans
from mycel_subnet.storage import StorageError
from protocol import LearnedPattern, describe_validation_error
from protocol import limits as L
from protocol.pattern import ModelAdapter

_REGISTRY_DOMAIN = re.compile(r"^[a-z0-9_-]{1,64}$")  # the registry contract's rule


class AdapterPublishOut(PublishOut):
    base_model: str
    adapter_cid: str
    adapter_hash: str
    loadable_here: bool  # whether this instance's `use` can load its base model


def _check_public_text(texts: list[str]) -> None:
    kinds = sorted({span.type for text in texts for span in find_spans(text)})
    if kinds:
        raise BadInput(
            f"the trigger or a requirement holds private values ({', '.join(kinds)}): "
            "describe what the adapter does without them"
        )


def _package(folder: Path, base_model: str, instance: Instance) -> ModelAdapter:
    try:
        return package_adapter(folder, base_model, instance.content_store())
    except AdapterError as exc:
        raise BadInput(str(exc)) from None
    except StorageError as exc:
        raise Unavailable(f"the adapter could not be stored: {exc}") from None


async def publish_adapter(
    instance: Instance,
    folder: str | Path,
    *,
    base_model: str,
    trigger: str,
    domain: str,
    price: object = "0",
    requirements: list[str] | None = None,
    progress: Progress = quiet,
) -> AdapterPublishOut:
    """Package the LoRA folder, make its pattern and publish it at `price` per use."""
    parse_price(price)  # a bad price is refused before anything is uploaded
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise BadInput(f"adapter folder not found: {path}")
    if not isinstance(domain, str) or not _REGISTRY_DOMAIN.match(domain):
        raise BadInput(f"--domain must be 1-64 characters of a-z, 0-9, _ or -: {domain!r:.70}")
    requirements = list(requirements or [])
    _check_public_text([trigger, *requirements])
    if not isinstance(base_model, str) or not 1 <= len(base_model) <= L.MAX_MODEL_NAME_LEN:
        raise BadInput(f"--base-model must be 1-{L.MAX_MODEL_NAME_LEN} characters")
    progress(f"packaging the adapter and storing it in the content store ({path.name})")
    adapter = await asyncio.to_thread(_package, path, base_model, instance)
    try:
        pattern = LearnedPattern(
            creator=instance.account,
            created_at=datetime.now(UTC),
            trigger=trigger,
            context_requirements=requirements,
            solution=adapter,
            domain=domain,
        )
    except ValidationError as exc:
        raise BadInput(f"not a valid adapter pattern: {describe_validation_error(exc)}") from None
    if not loadable_here(base_model):
        progress(f"note: this instance cannot load base model {base_model!r} itself")
    store = instance.pattern_store()
    await asyncio.to_thread(store.put, pattern)
    out = await publish(instance, pattern.id, price, progress=progress)
    return AdapterPublishOut(
        **out.model_dump(),
        base_model=base_model,
        adapter_cid=adapter.adapter_cid,
        adapter_hash=adapter.adapter_hash,
        loadable_here=loadable_here(base_model),
    )
