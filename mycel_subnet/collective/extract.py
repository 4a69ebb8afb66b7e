"""extract: an interaction log -> a shareable LearnedPattern, through the project's one privacy
path (the engines' generate_pattern, leak-tested on the privacy corpus), into the user's own
store. Nothing is shared here; `publish` does that.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from mycel_subnet.collective.errors import BadInput, Refused
from mycel_subnet.collective.instance import Instance
from mycel_subnet.collective.logfile import read_log
from mycel_subnet.collective.models import ExtractOut
from mycel_subnet.collective.progress import Progress, quiet
from mycel_subnet.privacy.pipeline import classify_domain, utility_score
from mycel_subnet.privacy.scrubber import InteractionScrubber
from protocol import GeneratePatternRequest, InteractionLog, LearnedPattern
from protocol.pattern import Label

_LABEL = TypeAdapter(Label)


def removed_kinds(request: GeneratePatternRequest) -> dict[str, int]:
    """Kinds of private values the scrubber learned from the log and how many: never values."""
    from mycel_subnet.engines.generate import learn_log

    scrubber = InteractionScrubber(use_ner=True)
    learn_log(request, scrubber)
    return dict(sorted(Counter(s.kind for s in scrubber.secrets).items()))


def pattern_text(pattern: LearnedPattern) -> str:
    """The reusable text of a pattern (what the utility score is measured on)."""
    solution = pattern.solution
    if solution.kind == "prompt_template":
        return f"{pattern.trigger} {solution.template}"
    if solution.kind == "workflow":
        return " ".join([pattern.trigger, *(step.content for step in solution.steps)])
    return pattern.trigger


def variables_of(pattern: LearnedPattern) -> list[str]:
    solution = pattern.solution
    if solution.kind == "prompt_template":
        return list(solution.variables)
    return list(pattern.context_requirements)


def structure_of(pattern: LearnedPattern) -> str:
    """What k-anonymity counts: the generalised structure (kind, trigger and solution)."""
    return f"{pattern.solution.kind}\n{pattern_text(pattern)}"


def _engine(creator: str):
    from mycel_subnet.engines.pattern_engine import PatternEngine

    return PatternEngine(None, None, creator=creator, use_presidio=True)


def _generate(log: InteractionLog, domain: str, creator: str):
    request = GeneratePatternRequest(interaction_log=log, domain=domain, creator=creator)
    result = _engine(creator).generate_pattern(request)
    return request, result


async def extract(
    instance: Instance,
    log_path: str | Path,
    *,
    domain: str | None = None,
    k_anonymity: int | None = None,
    progress: Progress = quiet,
) -> ExtractOut:
    """Extract one pattern from the log at `log_path`; refusals raise Refused with the reason."""
    if k_anonymity is not None and (isinstance(k_anonymity, bool) or k_anonymity < 1):
        raise BadInput(f"--k-anonymity must be a whole number >= 1, got {k_anonymity!r}")
    log, _raw = read_log(log_path)
    interaction = hashlib.sha256(log.model_dump_json().encode()).hexdigest()
    if domain is None:
        domain = classify_domain(" ".join(t.content for t in log.turns))
    try:
        _LABEL.validate_python(domain)
    except ValidationError:
        raise BadInput(f"--domain is not a valid label: {domain[:80]!r}") from None
    progress("scrubbing the log and shaping a pattern (loads the NER model, runs the sandbox)")
    request, result = await asyncio.to_thread(_generate, log, domain, instance.account)
    removed = await asyncio.to_thread(removed_kinds, request)
    pattern = result.generated_pattern
    if pattern is None:
        out = ExtractOut(
            pattern_id=None, kind=None, domain=domain, trigger=None, removed=removed,
            generalised=[], utility=0.0, refused=True, reason=result.refusal_reason,
        )  # fmt: skip
        raise Refused(f"not shareable: {result.refusal_reason}", out)
    utility, _ = utility_score(pattern_text(pattern))
    out = ExtractOut(
        pattern_id=pattern.id,
        kind=pattern.solution.kind,
        domain=pattern.domain,
        trigger=pattern.trigger,
        removed=removed,
        generalised=variables_of(pattern),
        utility=round(utility, 3),
        refused=False,
    )
    if k_anonymity is not None:
        seen = await asyncio.to_thread(_observe, instance, pattern, interaction, k_anonymity)
        out.k_anonymity = {"seen": seen, "k": k_anonymity}
        if seen < k_anonymity:
            out.refused, out.reason = (
                True,
                (
                    f"k-anonymity: this structure was seen in {seen} distinct interaction(s); "
                    f"it is shareable from {k_anonymity}"
                ),
            )
            raise Refused(out.reason, out)
    store = instance.pattern_store()
    await asyncio.to_thread(store.put, pattern)
    instance.record_extracted(pattern.id)
    return out


def _observe(instance: Instance, pattern: LearnedPattern, interaction: str, k: int) -> int:
    """Count this interaction (its turns' hash: the same chat in JSON or JSONL counts once)."""
    from mycel_subnet.privacy.kanon import KAnonymityGate, structure_key

    with KAnonymityGate(instance.home / "kanon.db", k) as gate:
        return gate.observe(structure_key(structure_of(pattern)), interaction)
