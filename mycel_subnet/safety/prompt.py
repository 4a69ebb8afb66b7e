# ruff: noqa: E501 - regex rule tables read best one rule per line
"""Prompt-injection markers in prompt templates shared through the network: instructions to
override earlier ones, role-switch markers, hidden characters, exfiltration requests."""

from __future__ import annotations

import re
import unicodedata

from mycel_subnet.safety.report import Finding, Severity

C, H, M, L = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW
_I = re.IGNORECASE

RULES: list[tuple[str, Severity, re.Pattern[str], str]] = [
    (
        "PI_OVERRIDE",
        H,
        re.compile(
            r"\b(ignore|disregard|forget|override)\b[^.\n]{0,30}\b(previous|prior|above|earlier|all|any|your)\b[^.\n]{0,20}\b(instructions?|prompts?|rules|directions|guidelines|context)",
            _I,
        ),
        "asks the model to drop its instructions",
    ),
    (
        "PI_NEW_INSTRUCTIONS",
        M,
        re.compile(r"\b(new|updated|real)\s+(system\s+)?instructions?\s*:", _I),
        "injects replacement instructions",
    ),
    (
        "PI_ROLE_MARKER",
        H,
        re.compile(
            r"<\|?(im_start|im_end|system|endoftext|start_header_id|eot_id)\|?>|\[/?INST\]|<</?SYS>>|^\s*(###\s*)?(system|assistant)\s*:",
            _I | re.M,
        ),
        "chat role-switch marker",
    ),
    (
        "PI_ROLE_PLAY",
        M,
        re.compile(
            r"\byou are now\b|\bact as (an? )?(unrestricted|jailbroken|DAN)\b|\bdeveloper mode\b|\bjailbreak",
            _I,
        ),
        "role hijack",
    ),
    (
        "PI_SYSTEM_PROMPT",
        H,
        re.compile(
            r"\b(reveal|print|show|repeat|output|leak|tell me)\b[^.\n]{0,30}\b(system prompt|initial prompt|hidden (prompt|instructions)|your instructions)",
            _I,
        ),
        "asks for the system prompt",
    ),
    (
        "PI_EXFILTRATION",
        C,
        re.compile(
            r"\b(send|post|upload|forward|exfiltrate|email|transmit)\b[^.\n]{0,60}\b(api[_ ]?keys?|passwords?|secrets?|tokens?|credentials?|private keys?|mnemonic|seed phrase|env(ironment)? variables?|conversation|chat history)\b",
            _I,
        ),
        "asks to send secrets or data out",
    ),
    (
        "PI_EXFIL_URL",
        H,
        re.compile(r"!\[[^\]]*\]\(https?://[^)]*(\{|%7B|\?[^)]*=)", _I),
        "markdown image that can carry data out",
    ),
    (
        "PI_HIDE",
        M,
        re.compile(
            r"\b(do not|don't|never)\s+(tell|mention|reveal|inform)\b[^.\n]{0,30}\b(user|human)", _I
        ),
        "asks the model to hide things from the user",
    ),
]
# Zero-width and bidi control characters: invisible text or reordered display.
HIDDEN = {
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u00ad",
    "\u180e",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
}


# Template slots (`{variable}`, `<KIND>`, a trigger's `<variable>`) are the generaliser's own
# text, not instructions: "{email}" is not the verb "email", "<API_KEY>" is not a request for
# keys. They are masked before the rules run; chat role markers are never treated as slots.
_SLOT = re.compile(r"\{\{?[A-Za-z_][A-Za-z0-9_]*\}?\}|<[A-Za-z][A-Za-z0-9_]*>")
_MARKER_WORDS = frozenset(
    {"system", "assistant", "user", "sys", "inst", "im_start", "im_end", "endoftext"}
    | {"start_header_id", "end_header_id", "eot_id", "s"}
)
SLOT_MASK = "{slot}"


def mask_slots(text: str) -> str:
    """`text` with every template slot replaced by a neutral `{slot}`."""

    def mask(match: re.Match[str]) -> str:
        name = match.group(0).strip("{}<>").lower()
        return match.group(0) if name in _MARKER_WORDS else SLOT_MASK

    return _SLOT.sub(mask, text)


def scan_prompt_findings(text: str) -> list[Finding]:
    """Findings for injection markers; text is NFKC-normalised first so look-alikes match,
    and template slots are masked (see `mask_slots`)."""
    findings: list[Finding] = []
    hidden_lines = sorted({text.count("\n", 0, i) + 1 for i, ch in enumerate(text) if ch in HIDDEN})
    hidden_lines += sorted(
        {text.count("\n", 0, i) + 1 for i, ch in enumerate(text) if 0xE0000 <= ord(ch) <= 0xE007F}
    )
    for line in sorted(set(hidden_lines)):
        findings.append(
            Finding("PI_HIDDEN_CHARS", Severity.HIGH, line, "zero-width, bidi or tag characters")
        )
    visible = "".join(ch for ch in text if ch not in HIDDEN and not 0xE0000 <= ord(ch) <= 0xE007F)
    normalised = mask_slots(unicodedata.normalize("NFKC", visible))
    for code, severity, pattern, message in RULES:
        for match in pattern.finditer(normalised):
            line = normalised.count("\n", 0, match.start()) + 1
            findings.append(Finding(code, severity, line, f"{message}: {match.group(0)[:60]!r}"))
    return findings
