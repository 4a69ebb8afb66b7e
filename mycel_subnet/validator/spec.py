"""The validator's weights version key: `[tool.mycel] spec_version` in pyproject.toml.

Bump it when scoring changes incompatibly; the subnet owner raises `weights_version` to make
older validators stop setting weights. An installed package without the source tree falls back
to SPEC_VERSION, which a test keeps equal to the pyproject value.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

SPEC_VERSION = 2
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


@cache
def spec_version(pyproject: Path = PYPROJECT) -> int:
    try:
        with pyproject.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError):
        return SPEC_VERSION
    value = data.get("tool", {}).get("mycel", {}).get("spec_version", SPEC_VERSION)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"[tool.mycel] spec_version must be an integer >= 0, got {value!r}")
    return value
