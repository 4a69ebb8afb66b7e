"""Relevance of a pattern to a request: does its trigger apply to the query, are the facts it
needs present, and is it from the request's domain. Each signal is 0..1; missing signals (no
requirements, no domain given) drop out of the weighted mean instead of counting as zero."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mycel_subnet.engines.similarity import Similarity
from mycel_subnet.engines.text import content_words, label_words, norm_label
from protocol import LearnedPattern

W_TRIGGER, W_REQUIREMENTS, W_DOMAIN = 0.6, 0.2, 0.2
REQUIREMENT_SIM = 0.7  # calibrated similarity above which a fact name "is" a requirement


@dataclass(frozen=True)
class Relevance:
    value: float
    trigger: float
    requirements: float | None
    domain: float | None
    missing: tuple[str, ...] = ()

    def rationale(self) -> str:
        parts = [f"trigger match {self.trigger:.2f}"]
        if self.requirements is not None:
            parts.append(f"requirements met {self.requirements:.2f}")
            if self.missing:
                parts.append("missing " + ", ".join(self.missing[:3]))
        if self.domain is not None:
            parts.append(f"domain {'matches' if self.domain >= 1 else 'differs'}")
        return "; ".join(parts)


def domain_match(pattern_domain: str, context_domain: str) -> float:
    """1 for the same label (case and separators ignored), 0.5 for shared words, else 0."""
    if norm_label(pattern_domain) == norm_label(context_domain):
        return 1.0
    return 0.5 if label_words(pattern_domain) & label_words(context_domain) else 0.0


def coverage(requirement: str, facts: Mapping[str, str], query: str, sim: Similarity) -> float:
    """1 when a fact supplies the requirement (by name or content), 0.5 when the query only
    mentions it (the need is stated, the value is not given), else 0."""
    need = set(content_words(requirement))
    if not need:
        return 1.0
    for key in facts:
        have = set(content_words(norm_label(key)))
        if have and (have <= need or need <= have or len(have & need) * 2 >= len(need)):
            return 1.0
    keys = [norm_label(k) for k in facts]
    if keys and max(sim.many(requirement, keys)) >= REQUIREMENT_SIM:
        return 1.0
    values = set(content_words(" ".join(facts.values())))
    if len(need & values) * 2 >= len(need) + 1:
        return 1.0
    return 0.5 if len(need & set(content_words(query))) * 2 >= len(need) + 1 else 0.0


def relevance(
    pattern: LearnedPattern,
    query: str,
    facts: Mapping[str, str],
    domain: str | None,
    sim: Similarity,
    *,
    trigger_sim: float | None = None,
) -> Relevance:
    """Weighted relevance; `trigger_sim` may be passed in when computed in a batch."""
    trig = sim.one(query, pattern.trigger) if trigger_sim is None else trigger_sim
    parts = [(W_TRIGGER, trig)]
    req_value: float | None = None
    missing: list[str] = []
    if pattern.context_requirements:
        covered = [coverage(r, facts, query, sim) for r in pattern.context_requirements]
        missing = [r for r, c in zip(pattern.context_requirements, covered, strict=True) if c < 1]
        req_value = sum(covered) / len(covered)
        parts.append((W_REQUIREMENTS, req_value))
    dom_value: float | None = None
    if domain:
        dom_value = domain_match(pattern.domain, domain)
        parts.append((W_DOMAIN, dom_value))
    value = sum(w * v for w, v in parts) / sum(w for w, _ in parts)
    # A pattern whose trigger does not apply is not made relevant by generic requirements
    # and a shared domain alone.
    value = min(value, trig + 0.3)
    return Relevance(value, trig, req_value, dom_value, tuple(missing))
