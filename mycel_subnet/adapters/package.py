"""Share a trained peft LoRA adapter by CID, and take one back safely.

Publishing: `package_adapter(folder, base_model, store)` hashes adapter_model.safetensors
(`adapter_hash`: the weights alone, since adapter_config.json holds a machine-local path), writes
the deterministic archive (see archive.py) to the content store (`adapter_cid`) and returns the
protocol's `ModelAdapter`.

Consuming: `fetch_adapter` gets the archive by CID (the store re-hashes it against the CID),
checks the weights against `adapter_hash`, checks the base model named by the pattern, the
archive and the caller all agree, and writes a folder peft can load. `load_adapter` then loads it
onto the caller's base model and checks every tensor in the file found a place in the model.
Only safetensors are ever read: no pickle, no code from the archive.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mycel_subnet.adapters.archive import (
    CONFIG,
    WEIGHTS,
    build_archive,
    config_bytes,
    normalise_config,
    read_archive,
)
from mycel_subnet.adapters.errors import (
    AdapterError,
    AdapterIntegrityError,
    BaseModelMismatch,
    InvalidAdapterArchive,
)
from mycel_subnet.storage.base import ContentStore
from protocol.pattern import ModelAdapter

if TYPE_CHECKING:
    import torch
    from peft import PeftModel


def adapter_hash(weights: bytes) -> str:
    """sha256 hex of adapter_model.safetensors: the adapter's identity for duplicate checks."""
    return hashlib.sha256(weights).hexdigest()


def package_adapter(
    adapter_dir: str | os.PathLike[str], base_model: str, store: ContentStore
) -> ModelAdapter:
    """Put a `save_pretrained` LoRA folder into `store`; the ModelAdapter to publish."""
    folder = Path(adapter_dir)
    weights_path, config_path = folder / WEIGHTS, folder / CONFIG
    for path in (weights_path, config_path):
        if not path.is_file():
            raise AdapterError(f"{folder} is not a peft adapter folder: {path.name} is missing")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AdapterError(f"{config_path} is not valid JSON: {exc}") from None
    weights = weights_path.read_bytes()
    archive = build_archive(weights, normalise_config(config, base_model))
    cid = store.put(archive)
    return ModelAdapter(base_model=base_model, adapter_cid=cid, adapter_hash=adapter_hash(weights))


def fetch_adapter(
    adapter: ModelAdapter,
    store: ContentStore,
    dest_dir: str | os.PathLike[str],
    *,
    expected_base_model: str,
    max_bytes: int | None = None,
) -> Path:
    """Fetch, verify and unpack `adapter` into `dest_dir`; the folder peft can load."""
    if adapter.base_model != expected_base_model:
        raise BaseModelMismatch(
            f"adapter {adapter.adapter_cid} is for base model {adapter.base_model!r},"
            f" not {expected_base_model!r}"
        )
    archive = store.get(adapter.adapter_cid, max_size=max_bytes)  # verified against the CID
    weights, config = read_archive(archive)
    actual = adapter_hash(weights)
    if actual != adapter.adapter_hash:
        raise AdapterIntegrityError(
            f"adapter {adapter.adapter_cid}: weights hash to {actual},"
            f" but the pattern declares adapter_hash {adapter.adapter_hash}"
        )
    declared = config.get("base_model_name_or_path")
    if declared != adapter.base_model:
        raise BaseModelMismatch(
            f"adapter {adapter.adapter_cid}: its config names base model {declared!r},"
            f" the pattern says {adapter.base_model!r}"
        )
    config = normalise_config(config, adapter.base_model)  # refuses non-LoRA / megatron configs
    folder = Path(dest_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / WEIGHTS).write_bytes(weights)
    (folder / CONFIG).write_bytes(config_bytes(config))
    return folder


def load_adapter(
    model: Any,
    adapter: ModelAdapter,
    store: ContentStore,
    dest_dir: str | os.PathLike[str],
    *,
    expected_base_model: str,
    max_bytes: int | None = None,
) -> PeftModel:
    """Fetch and verify `adapter`, then load it onto `model` (a transformers base model)."""
    folder = fetch_adapter(
        adapter, store, dest_dir, expected_base_model=expected_base_model, max_bytes=max_bytes
    )
    return attach_adapter(model, adapter, folder)


def attach_adapter(model: Any, adapter: ModelAdapter, folder: str | os.PathLike[str]) -> PeftModel:
    """Load a folder `fetch_adapter` wrote onto `model`; every tensor must find its place.

    Separate from the fetch so a caller can verify the adapter before it loads a large base.
    """
    from peft import PeftModel, get_peft_model_state_dict
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(folder)
    try:
        expected: dict[str, torch.Tensor] = load_file(str(folder / WEIGHTS))
    except (SafetensorError, OSError, ValueError) as exc:
        raise InvalidAdapterArchive(f"{WEIGHTS} is not a valid safetensors file: {exc}") from None
    try:
        peft_model = PeftModel.from_pretrained(model, str(folder), is_trainable=False)
    except (ValueError, RuntimeError, KeyError, TypeError) as exc:
        raise BaseModelMismatch(
            f"adapter {adapter.adapter_cid} does not fit this {type(model).__name__}: {exc}"
        ) from None
    # save_embedding_layers=False: "auto" would look the base model up on the Hub.
    loaded = get_peft_model_state_dict(peft_model, save_embedding_layers=False)
    if set(loaded) != set(expected):
        stray = sorted(set(expected) - set(loaded))[:3]
        raise BaseModelMismatch(
            f"adapter {adapter.adapter_cid} has tensors this model has no place for"
            f" (e.g. {stray}); it was trained for another architecture"
        )
    for name, tensor in expected.items():
        if loaded[name].shape != tensor.shape:
            raise BaseModelMismatch(
                f"adapter tensor {name} has shape {tuple(tensor.shape)},"
                f" the model expects {tuple(loaded[name].shape)}"
            )
    return peft_model
