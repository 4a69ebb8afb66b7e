"""SafetyReport: findings with severities, folded into a 0-100 score (100 = nothing found)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


PENALTY = {Severity.LOW: 5, Severity.MEDIUM: 15, Severity.HIGH: 35, Severity.CRITICAL: 60}


@dataclass(frozen=True)
class Finding:
    """One thing that looks dangerous: a stable ``code`` (e.g. ``PY_EXEC``), where, and why."""

    code: str
    severity: Severity
    line: int | None
    message: str


@dataclass(frozen=True)
class SafetyReport:
    """Score 0-100 (100 = safe) and the findings behind it."""

    score: int
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def safe(self) -> bool:
        """No high or critical findings."""
        return not any(f.severity in (Severity.HIGH, Severity.CRITICAL) for f in self.findings)

    def codes(self) -> set[str]:
        return {f.code for f in self.findings}


def build_report(findings: list[Finding]) -> SafetyReport:
    """Deduplicate findings (same code and line) and score them."""
    unique: dict[tuple[str, int | None], Finding] = {}
    for finding in findings:
        unique.setdefault((finding.code, finding.line), finding)
    ordered = sorted(unique.values(), key=lambda f: (f.line or 0, f.code))
    score = max(0, 100 - sum(PENALTY[f.severity] for f in ordered))
    return SafetyReport(score=score, findings=tuple(ordered))
