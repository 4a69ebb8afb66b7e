"""Safety of a pattern from static analysis. The scoring now lives in
`mycel_subnet.safety.pattern` (below both the engines and discovery); this module re-exports it
so existing engine imports keep working."""

from mycel_subnet.safety.pattern import (
    ADAPTER_SAFETY,
    CAP,
    PROMPT_MEDIUM_CAP,
    Safety,
    capped,
    code_safety,
    pattern_safety,
    prompt_safety,
)

__all__ = [
    "ADAPTER_SAFETY",
    "CAP",
    "PROMPT_MEDIUM_CAP",
    "Safety",
    "capped",
    "code_safety",
    "pattern_safety",
    "prompt_safety",
]
