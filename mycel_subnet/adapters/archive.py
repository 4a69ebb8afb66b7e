"""The adapter archive: one deterministic tar with the weights and a normalised config.

Why one tar rather than two CIDs or a UnixFS folder: `ModelAdapter` carries one `adapter_cid`,
and one blob works the same in the local store and in kubo (`ipfs cat` gives the archive; the
local store has no directory objects). The tar is uncompressed (safetensors weights barely
compress and gzip headers carry a timestamp) and byte-for-byte reproducible: ustar format, fixed
member order, mtime 0, uid/gid 0, no user names, mode 0644. The same adapter therefore always has
the same CID, so two miners publishing the same weights collide on CID as well as on hash.

The config is normalised because peft writes the absolute local path of the base model and
writes `target_modules` from a set in arbitrary order: both would change the CID between runs.
"""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

from mycel_subnet.adapters.errors import InvalidAdapterArchive

WEIGHTS = "adapter_model.safetensors"
CONFIG = "adapter_config.json"
MEMBERS = (CONFIG, WEIGHTS)  # the fixed order inside the tar
MAX_CONFIG_BYTES = 64 * 1024
_LIST_FIELDS_AS_SETS = ("target_modules", "exclude_modules", "modules_to_save")


def normalise_config(config: dict[str, Any], base_model: str) -> dict[str, Any]:
    """The adapter config with the base model named by `base_model` and set-like lists sorted."""
    if config.get("peft_type") != "LORA":
        raise InvalidAdapterArchive(
            f"only LoRA adapters are shared; this config has peft_type={config.get('peft_type')!r}"
        )
    if config.get("megatron_config"):
        raise InvalidAdapterArchive("adapters with megatron_config are refused (it imports code)")
    out = dict(config)
    out["base_model_name_or_path"] = base_model
    out["inference_mode"] = True
    for key in _LIST_FIELDS_AS_SETS:
        if isinstance(out.get(key), list):
            out[key] = sorted(out[key])
    return out


def config_bytes(config: dict[str, Any]) -> bytes:
    return (json.dumps(config, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def build_archive(weights: bytes, config: dict[str, Any]) -> bytes:
    """The reproducible tar of a normalised config and the safetensors weights."""
    buf = io.BytesIO()
    contents = {CONFIG: config_bytes(config), WEIGHTS: weights}
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in MEMBERS:
            info = tarfile.TarInfo(name)
            info.size = len(contents[name])
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(contents[name]))
    return buf.getvalue()


def read_archive(archive: bytes) -> tuple[bytes, dict[str, Any]]:
    """(weights, config) from an archive; anything but exactly our two regular files is refused.

    Members are read into memory, never extracted, so names like '../x' or links cannot write
    outside a folder.
    """
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
            for info in tar:
                if info.name not in MEMBERS or not info.isreg():
                    raise InvalidAdapterArchive(
                        f"adapter archive holds an unexpected member {info.name!r};"
                        f" only {', '.join(MEMBERS)} are allowed"
                    )
                if info.name in found:
                    raise InvalidAdapterArchive(f"adapter archive holds {info.name} twice")
                if info.name == CONFIG and info.size > MAX_CONFIG_BYTES:
                    raise InvalidAdapterArchive(f"{CONFIG} is {info.size} bytes, over 64 KiB")
                fh = tar.extractfile(info)
                found[info.name] = fh.read() if fh else b""
    except tarfile.TarError as exc:
        raise InvalidAdapterArchive(f"adapter archive is not a valid tar: {exc}") from None
    missing = [m for m in MEMBERS if m not in found]
    if missing:
        raise InvalidAdapterArchive(f"adapter archive lacks {', '.join(missing)}")
    try:
        config = json.loads(found[CONFIG])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidAdapterArchive(f"{CONFIG} in the archive is not JSON: {exc}") from None
    if not isinstance(config, dict):
        raise InvalidAdapterArchive(f"{CONFIG} in the archive must be a JSON object")
    return found[WEIGHTS], config
