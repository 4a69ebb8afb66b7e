"""Private randomness for challenges: one secret seed per step, derived streams per purpose.

The seed comes from `secrets` (miners cannot predict it) and is recorded in the validator's
state after the step, so any round can be rebuilt exactly for an audit or a bug report.
"""

from __future__ import annotations

import hashlib
import random
import secrets


def new_seed() -> str:
    """A fresh 128-bit secret seed as hex."""
    return secrets.token_hex(16)


def derive(seed: str, *labels: object) -> random.Random:
    """An independent, reproducible random stream for (seed, labels)."""
    material = "|".join([seed, *(str(label) for label in labels)]).encode("utf-8")
    return random.Random(int.from_bytes(hashlib.sha256(material).digest(), "big"))
