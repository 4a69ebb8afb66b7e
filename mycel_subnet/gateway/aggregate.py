"""Pick the answer to return from several miners' answers: the validator's own checks first,
then the miners' agreement. Pure functions, so every rule is tested without a network.

Inference: an answer counts only if it is non-empty and every pattern it says it used was
offered. Among those, the answer most like the others wins (the sum of its token-overlap
similarity to every other counted answer); ties go to the miner the validator scores higher. A
liar that answers at random agrees with nobody, so two honest miners that agree outvote it.

Search: ids a miner returns that the registry does not hold (or outside the asked domain or
snapshot) are dropped and counted as that miner's fault. The rest are fused by reciprocal rank
(sum of 1 / (60 + rank)) and kept only when at least `min_support` miners returned them, so one
miner alone cannot put a pattern in front of a caller once two or more have answered.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from protocol import InferenceResult, SearchPatternsResult

RRF_K = 60  # the usual reciprocal-rank-fusion constant: damps the weight of the very top rank
AGREE_SIMILARITY = 0.6  # two answers this alike (token overlap) count as agreeing
_TOKEN = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class MinerAnswer:
    """One miner's verified answer; `key` identifies the miner inside the gateway only."""

    key: str
    score: float
    result: object


@dataclass
class Choice:
    """The chosen inference answer (None when no answer passed the checks) and the faults."""

    answer: InferenceResult | None
    valid: int
    agreeing: int
    faults: dict[str, str] = field(default_factory=dict)  # miner key -> what check failed


def _tokens(text: str) -> Counter:
    return Counter(t.casefold() for t in _TOKEN.findall(text))


def similarity(a: Counter, b: Counter) -> float:
    """Multiset Jaccard over word tokens: 1 for the same words, 0 for none in common; linear in
    the answer's length (a 32 kB answer costs ~1 ms), unlike an edit distance."""
    if not a and not b:
        return 1.0
    union = sum((a | b).values())
    return sum((a & b).values()) / union if union else 0.0


def inference_fault(result: object, offered: set[str]) -> str | None:
    """Why an inference answer fails the validator's own checks, or None when it passes."""
    if not isinstance(result, InferenceResult):
        return f"answered a {type(result).__name__}, not an inference result"
    if not result.response.strip():
        return "empty response"
    unknown = [p for p in result.patterns_used if p not in offered]
    if unknown:
        return f"claims {len(unknown)} pattern(s) it was not offered"
    return None


def choose_inference(answers: Sequence[MinerAnswer], offered: set[str]) -> Choice:
    """The answer to return (see the module's rules)."""
    faults: dict[str, str] = {}
    valid: list[tuple[MinerAnswer, Counter]] = []
    for answer in answers:
        fault = inference_fault(answer.result, offered)
        if fault:
            faults[answer.key] = fault
        else:
            valid.append((answer, _tokens(answer.result.response)))  # type: ignore[union-attr]
    if not valid:
        return Choice(None, 0, 0, faults)
    pair = [[similarity(a, b) for _, b in valid] for _, a in valid]
    support = [sum(row) - row[i] for i, row in enumerate(pair)]
    best = max(range(len(valid)), key=lambda i: (round(support[i], 9), valid[i][0].score, -i))
    agreeing = sum(1 for s in pair[best] if s >= AGREE_SIMILARITY)  # includes itself
    chosen = valid[best][0].result
    assert isinstance(chosen, InferenceResult)
    return Choice(chosen, len(valid), agreeing, faults)


@dataclass(frozen=True)
class Fused:
    pattern_id: str
    support: int
    score: float


def fuse_rankings(answers: Sequence[MinerAnswer], k: int) -> dict[str, Fused]:
    """Reciprocal-rank fusion of every miner's first `k` ids (a miner sending more than asked
    gains nothing from the extra ones)."""
    scores: dict[str, float] = {}
    support: Counter = Counter()
    for answer in answers:
        result = answer.result
        if not isinstance(result, SearchPatternsResult):
            continue
        for rank, pid in enumerate(result.pattern_ids[:k]):
            scores[pid] = scores.get(pid, 0.0) + 1.0 / (RRF_K + rank + 1)
            support[pid] += 1
    return {pid: Fused(pid, support[pid], s) for pid, s in scores.items()}


def search_faults(
    answers: Sequence[MinerAnswer], k: int, rejected: Mapping[str, str]
) -> dict[str, str]:
    """Miners whose answer held an id the validator's registry check rejected (id -> reason),
    or that answered with something that is not a search result."""
    faults: dict[str, str] = {}
    for answer in answers:
        result = answer.result
        if not isinstance(result, SearchPatternsResult):
            faults[answer.key] = f"answered a {type(result).__name__}, not a search result"
            continue
        bad = [pid for pid in result.pattern_ids[:k] if pid in rejected]
        if bad:
            faults[answer.key] = (
                f"returned {len(bad)} id(s) the registry check rejected: " + (rejected[bad[0]])
            )
    return faults


def rank_agreed(fused: Mapping[str, Fused], accepted: set[str], k: int, min_support: int):
    """The accepted ids with enough support, best fused score first (ties: more support, id)."""
    keep = [f for pid, f in fused.items() if pid in accepted and f.support >= min_support]
    keep.sort(key=lambda f: (-f.score, -f.support, f.pattern_id))
    return keep[:k]
