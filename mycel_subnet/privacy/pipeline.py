"""The vision's sharing pipeline: learn every private value -> scrub -> shape the insight ->
generalise -> leak check -> DP noise on numeric signals. Returns None when nothing useful (or
nothing safe) survives.

The same `InteractionScrubber` as the engines' generate path reads the WHOLE text first (every
turn, every code block), before anything is shaped or cut, so a PEM key keeps its END line and
a value from a later line is known everywhere. Only then is the insight shaped (the request's
task sentences and the approach that worked, from every turn, not just first lines) and capped,
and every string that leaves is checked against every learned value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from mycel_subnet.privacy.dp import PrivacyAccountant, privatise_signals
from mycel_subnet.privacy.scrubber import InteractionScrubber
from mycel_subnet.privacy.shaping import (
    approach_steps,
    fields,
    generalise_text,
    join_task,
    slot_ratio,
    task_sentences,
    without_instance,
)

MIN_CONTENT_WORDS = 3
MIN_UTILITY = 0.3
MAX_INSIGHT_CHARS = 500
MAX_STEPS = 3
_ROLE_LINE = re.compile(
    r"^\s*(user|human|q|request|prompt|assistant|ai|bot|answer|response|tool|function|"
    r"observation|system)\s*:[ \t]*",
    re.I | re.M,
)
_ROLES = {"human": "user", "q": "user", "request": "user", "prompt": "user", "ai": "assistant"}
_ROLES |= {"bot": "assistant", "answer": "assistant", "response": "assistant"}
_ROLES |= {"function": "tool", "observation": "tool"}
_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+#.-]*)[ \t]*\n(.*?)```", re.DOTALL)
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


def split_turns(text: str) -> list[tuple[str, str]]:
    """(role, content) of a dialogue written as `User: ...` / `Assistant: ...` blocks (a
    block runs until the next role label); a text without labels is one user turn."""
    marks = list(_ROLE_LINE.finditer(text))
    if not marks:
        return [("user", text)] if text.strip() else []
    turns = []
    if text[: marks[0].start()].strip():
        turns.append(("user", text[: marks[0].start()]))
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        role = mark.group(1).lower()
        body = text[mark.end() : following.start() if following else len(text)]
        turns.append((_ROLES.get(role, role), body.strip()))
    return [(role, body) for role, body in turns if body]


def learn_text(turns: list[tuple[str, str]], scrubber: InteractionScrubber) -> None:
    """Every turn's prose and every code block (any language), before anything is cut."""
    for _role, body in turns:
        prose = _FENCE.sub("\n", body)
        if prose.strip():
            scrubber.learn(prose)
        for language, code in _FENCE.findall(body):
            scrubber.learn(code, code_language=language.lower())


def extract_insight(turns: list[tuple[str, str]], scrubber: InteractionScrubber) -> str:
    """The generalisable part, from scrubbed text: the task sentences of the user turn that
    asks the most, then a few approach steps from the assistant's turns; each piece is dropped
    if it still carries a learned value. Capped only now, after scrubbing."""
    scrubbed = [(role, scrubber.scrub(_FENCE.sub(" ", body))) for role, body in turns]
    requests = [
        without_instance([s for s in task_sentences(body) if not scrubber.leaks(s)])
        for role, body in scrubbed
        if role == "user"
    ]
    request = join_task(max(requests, key=lambda r: len(" ".join(r)), default=[]))
    answers = "\n".join(body for role, body in scrubbed if role == "assistant")
    steps = [s for s in approach_steps(answers) if slot_ratio(s) <= 1 and not scrubber.leaks(s)]
    steps = steps[:MAX_STEPS]
    insight = request + ("\nApproach: " + " ".join(steps) if steps and request else "")
    if len(insight) > MAX_INSIGHT_CHARS:
        insight = insight[:MAX_INSIGHT_CHARS].rsplit(" ", 1)[0]
    return insight.strip()


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
    turns = split_turns(interaction_text)
    if not turns:
        return None
    scrubber = InteractionScrubber(use_ner=use_presidio)
    learn_text(turns, scrubber)
    insight = extract_insight(turns, scrubber)
    if not insight:
        return None
    request_part = insight.split("\nApproach: ", 1)[0]
    utility, content_words = utility_score(generalise_text(request_part))
    if content_words < MIN_CONTENT_WORDS or utility < MIN_UTILITY:
        return None
    template = generalise_text(insight)
    variable_names = tuple(fields(template))
    if any(scrubber.leaks(text) for text in (template, *variable_names)):
        return None  # the final check: nothing that carries a learned value leaves
    noisy = privatise_signals(
        dict(signals or {}),
        epsilon=float(privacy_budget),
        rng=rng if rng is not None else np.random.default_rng(),
        accountant=accountant,
    )
    return ShareableInsight(
        template=template,
        variable_names=variable_names,
        domain=classify_domain(template),
        signals=noisy,
        utility=round(utility, 3),
        redacted_types=tuple(sorted(scrubber.removed_kinds)),
    )
