"""The vision's sharing pipeline: extract insight -> remove PII -> generalise -> DP noise on
numeric signals -> utility check. Returns None when nothing useful survives."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from mycel_subnet.privacy.dp import PrivacyAccountant, privatise_signals
from mycel_subnet.privacy.generalise import generalise
from mycel_subnet.privacy.pii import remove_pii

MIN_CONTENT_WORDS = 3
MIN_UTILITY = 0.3
MAX_INSIGHT_CHARS = 500
_USER_LINE = re.compile(r"^\s*(?:user|human|q|request|prompt)\s*:\s*(.+)$", re.I | re.M)
_TOKEN = re.compile(r"<[A-Z_]+>|\{[a-z_0-9]+\}|[A-Za-z][A-Za-z'-]+")
_STOP = {"the", "and", "for", "with", "from", "that", "this", "all", "are", "was", "you", "our"}
DOMAINS = {
    "document_search": ("invoice", "document", "file", "find", "search", "report", "pdf"),
    "coding": ("function", "code", "bug", "error", "python", "test", "class", "compile", "api"),
    "data_analysis": ("csv", "table", "average", "sum", "chart", "query", "sql", "dataset"),
    "communication": ("email", "reply", "message", "draft", "meeting", "letter"),
}


@dataclass(frozen=True)
class ShareableInsight:
    """What may leave the machine: the template, its variable NAMES (never values), a domain,
    DP-noised signals and the utility score that let it through."""

    template: str
    variable_names: tuple[str, ...]
    domain: str
    signals: dict[str, float] = field(default_factory=dict)
    utility: float = 0.0
    redacted_types: tuple[str, ...] = ()


def extract_insight(text: str) -> str:
    """The generalisable part of an interaction: the user's request lines when the text is a
    dialogue, otherwise its first lines, capped so one long log cannot leak wholesale."""
    requests = [m.group(1).strip() for m in _USER_LINE.finditer(text)]
    insight = " ".join(requests) if requests else " ".join(text.split())
    return insight[:MAX_INSIGHT_CHARS].strip()


def utility_score(template: str) -> tuple[float, int]:
    """(content words / (content words + placeholders), number of content words).

    Content words are words of 3+ letters that are not stop words; placeholders are the
    ``<TYPE>`` and ``{variable}`` slots. A template that is mostly slots teaches nothing."""
    tokens = _TOKEN.findall(template)
    slots = sum(1 for t in tokens if t[0] in "<{")
    content = [t for t in tokens if t[0] not in "<{" and len(t) >= 3 and t.lower() not in _STOP]
    if not content:
        return 0.0, 0
    return len(content) / (len(content) + slots), len(content)


def classify_domain(template: str) -> str:
    lowered = template.lower()
    scores = {name: sum(word in lowered for word in words) for name, words in DOMAINS.items()}
    best = max(scores, key=lambda name: scores[name])
    return best if scores[best] else "general"


def extract_shareable(
    interaction_text: str,
    privacy_budget: float,
    *,
    signals: dict[str, float] | None = None,
    rng: np.random.Generator | None = None,
    accountant: PrivacyAccountant | None = None,
    use_presidio: bool = True,
) -> ShareableInsight | None:
    """Turn a private interaction into a shareable insight, or None when too little survives.

    ``privacy_budget`` is the epsilon spent on the numeric ``signals`` (usage_count,
    success_rate, rating); the accountant, when given, refuses once its budget is gone.
    """
    if not isinstance(interaction_text, str):
        raise TypeError(f"interaction_text must be a str, got {type(interaction_text).__name__}")
    if not isinstance(privacy_budget, (int, float)) or not privacy_budget > 0:
        raise ValueError(f"privacy_budget must be a positive epsilon, got {privacy_budget!r}")
    insight = extract_insight(interaction_text)
    if not insight:
        return None
    redaction = remove_pii(insight, use_presidio=use_presidio)
    general = generalise(redaction.text)
    utility, content_words = utility_score(general.template)
    if content_words < MIN_CONTENT_WORDS or utility < MIN_UTILITY:
        return None
    noisy = privatise_signals(
        dict(signals or {}),
        epsilon=float(privacy_budget),
        rng=rng if rng is not None else np.random.default_rng(),
        accountant=accountant,
    )
    return ShareableInsight(
        template=general.template,
        variable_names=tuple(general.variables),
        domain=classify_domain(general.template),
        signals=noisy,
        utility=round(utility, 3),
        redacted_types=tuple(sorted(redaction.types())),
    )
