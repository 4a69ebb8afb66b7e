"""search_patterns challenges: rank the registry's patterns for queries no miner has seen, graded
against the validator's own exact search over the same pinned snapshot.

Each instance holds `QUERIES` requests. Every query is new text made from the step's secret
stream: a paraphrase of a registered pattern's trigger (at tiers 2 and 3 often joined with a
second pattern's request), framed the way a user would ask. Each query pins its own snapshot:
the whole index (`registry_upto` = the validator's sync cursor) or, more often, an earlier cut
(20-60% of the patterns), and then its text is often made from a pattern above the cut, so an
index that ignores `registry_upto` answers with patterns that do not count. Some queries also
filter by the target's domain.

The truth is the validator's exact top k (cosine over the same embedding model, the same text a
pattern is indexed by). A query's accuracy is 0.75 recall@k + 0.25 nDCG@k over the first k ids
answered: an id counts when the validator's index holds it, it is inside the snapshot and
domain, and its similarity is at least the k-th best (within `TIE_EPS`, so float noise between
machines never costs a hit). Ids the registry does not hold, ids past the snapshot and repeats
of one answer for every query all score nothing.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mycel_subnet.patterns.registry_index import IndexedPattern, RegistryIndex
from mycel_subnet.validator.challenges.base import Challenge, CodeChecker, Grade
from mycel_subnet.validator.challenges.paraphrase import compose, rewrite
from protocol import SearchPatternsRequest

TASK = "search_patterns"
K = 10
QUERIES = 3
FULL_SHARE = 0.15  # queries over the whole snapshot; the rest pin an earlier cut
CUT = (0.2, 0.6)  # where a cut falls, as a share of the indexed patterns
DECOY_SHARE = 0.5  # cut queries whose text comes from a pattern past the cut
DOMAIN_SHARE = 0.35  # queries filtered by their target's domain
COMPOSE = {1: 0.0, 2: 0.5, 3: 0.8}  # share of queries joining two patterns' requests
STRENGTH = {1: 0.3, 2: 0.5, 3: 0.7}  # how much of a trigger is rewritten
RECALL_WEIGHT = 0.75
TIE_EPS = 1e-4
MIN_PATTERNS = 2_000  # below this many indexed patterns a step has no search task


@dataclass
class SearchSnapshot:
    """The validator's index as of this step: what queries are made from and graded against.
    `upto` is the sync cursor: every registry id below it is settled in the index."""

    index: RegistryIndex
    patterns: list[IndexedPattern]
    upto: int
    _by_domain: dict[str, list[int]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.patterns = sorted(self.patterns, key=lambda p: p.registry_id)
        for pattern in self.patterns:
            self._by_domain.setdefault(pattern.domain, []).append(pattern.registry_id)

    @classmethod
    def of(cls, index: RegistryIndex) -> SearchSnapshot:
        upto = index.cursor
        return cls(index, index.patterns(upto), upto)

    def in_domain(self, domain: str, upto: int) -> int:
        """How many indexed patterns of `domain` have a registry id below `upto`."""
        return bisect.bisect_left(self._by_domain.get(domain, []), upto)


@dataclass(frozen=True)
class QuerySpec:
    text: str
    upto: int
    domain: str | None
    target: int  # registry id of the pattern the text was made from (diagnostic)
    decoy: bool  # the target lies past the cut


def _text(rng: random.Random, tier: int, target: IndexedPattern, pool: Sequence[IndexedPattern]):
    text = rewrite(target.trigger, rng, STRENGTH[tier])
    if rng.random() < COMPOSE[tier]:
        other = rng.choice(pool)
        text = compose(text, rewrite(other.trigger, rng, STRENGTH[tier]), rng)
    return text


def _query(rng: random.Random, tier: int, snap: SearchSnapshot) -> QuerySpec:
    patterns = snap.patterns
    n = len(patterns)
    if rng.random() < FULL_SHARE:
        cut, upto = n, snap.upto
    else:
        cut = rng.randint(max(K, int(n * CUT[0])), max(K, int(n * CUT[1])))
        upto = patterns[cut].registry_id if cut < n else snap.upto
    allowed = patterns[:cut]
    decoy = cut < n and rng.random() < DECOY_SHARE
    target = rng.choice(patterns[cut:]) if decoy else rng.choice(allowed)
    text = _text(rng, tier, target, allowed)
    domain = None
    if rng.random() < DOMAIN_SHARE and snap.in_domain(target.domain, upto) >= K:
        domain = target.domain
    return QuerySpec(text, upto, domain, target.registry_id, decoy)


@dataclass(frozen=True)
class QueryGrade:
    recall: float
    ndcg: float
    unknown: int = 0  # ids the validator's index does not hold
    outside: int = 0  # held, but past the snapshot or in another domain

    @property
    def accuracy(self) -> float:
        return RECALL_WEIGHT * self.recall + (1 - RECALL_WEIGHT) * self.ndcg


def grade_query(
    answered: Sequence[str],
    truth: Sequence[tuple[str, float]],
    vector: np.ndarray,
    index: RegistryIndex,
    spec: QuerySpec,
    k: int = K,
) -> QueryGrade:
    """recall@k and nDCG@k of `answered` against the exact top k `truth` (see module doc).

    A hit's gain is k minus the number of truth entries clearly better than it, so the ideal
    order (the truth's own) scores 1 and any order of the right set scores at least ~0.8."""
    if not truth:
        return QueryGrade(1.0 if not answered else 0.0, 1.0 if not answered else 0.0)
    wanted = len(truth)
    kth = truth[-1][1]
    sims = [s for _, s in truth]
    found = index.lookup(answered[:k])
    hits = unknown = outside = 0
    dcg = 0.0
    for rank, pid in enumerate(answered[:k]):
        held = found.get(pid)
        if held is None:
            unknown += 1
            continue
        registry_id, domain, vec = held
        if registry_id >= spec.upto or (spec.domain is not None and domain != spec.domain):
            outside += 1
            continue
        sim = float(vec @ vector)
        if sim < kth - TIE_EPS:
            continue
        hits += 1
        better = sum(1 for s in sims if s > sim + TIE_EPS)
        dcg += (wanted - better) / math.log2(rank + 2)
    ideal = sum((wanted - i) / math.log2(i + 2) for i in range(wanted))
    return QueryGrade(min(1.0, hits / wanted), min(1.0, dcg / ideal), unknown, outside)


def _scorer(
    index: RegistryIndex,
    specs: list[QuerySpec],
    vectors: np.ndarray,
    truths: list[list[tuple[str, float]]],
):
    def score(results: list[Any | None], _checker: CodeChecker) -> Grade:
        grades: list[QueryGrade | None] = []
        for result, spec, vector, truth in zip(results, specs, vectors, truths, strict=True):
            if result is None:
                grades.append(None)
                continue
            grades.append(grade_query(list(result.pattern_ids), truth, vector, index, spec))
        answered = [g for g in grades if g is not None]
        accuracy = sum(g.accuracy for g in answered) / len(grades) if grades else 0.0
        notes = []
        missing = len(grades) - len(answered)
        if missing:
            notes.append(f"{missing} unanswered")
        if answered:
            recall = sum(g.recall for g in answered) / len(answered)
            ndcg = sum(g.ndcg for g in answered) / len(answered)
            notes.append(f"recall@{K} {recall:.2f} ndcg {ndcg:.2f}")
            unknown = sum(g.unknown for g in answered)
            outside = sum(g.outside for g in answered)
            if unknown:
                notes.append(f"{unknown} ids not in the registry index")
            if outside:
                notes.append(f"{outside} ids outside the snapshot or domain")
        return Grade(accuracy, "; ".join(notes))  # no fingerprint: honest answers agree

    return score


def build(rng: random.Random, tier: int, snapshot: SearchSnapshot) -> Challenge:
    """One instance: `QUERIES` fresh queries over `snapshot`, each with its exact answer."""
    if len(snapshot.patterns) < 2 * K:
        raise ValueError(f"a search challenge needs at least {2 * K} indexed patterns")
    specs = [_query(rng, tier, snapshot) for _ in range(QUERIES)]
    vectors = snapshot.index.embed([s.text for s in specs])
    truths = [
        snapshot.index.search(vec, K, domain=s.domain, upto=s.upto)
        for vec, s in zip(vectors, specs, strict=True)
    ]
    requests = tuple(
        SearchPatternsRequest(query=s.text, domain=s.domain, k=K, registry_upto=s.upto)
        for s in specs
    )
    decoys = sum(s.decoy for s in specs)
    summary = (
        f"search {QUERIES} queries, snapshots < {min(s.upto for s in specs)}"
        f"..{max(s.upto for s in specs)}, {decoys} decoy"
    )
    return Challenge(TASK, requests, _scorer(snapshot.index, specs, vectors, truths), summary, tier)
