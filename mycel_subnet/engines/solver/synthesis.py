"""Program search from examples: the shortest program of the task space that fits them all.

Breadth-first over stage sequences with observational equivalence: two partial programs that
give the same intermediate lists on every example input are one state, so the search visits
distinct behaviours, not distinct spellings. Comparison thresholds are drawn from the values
the state actually holds (a threshold between two held values behaves like either), which
keeps the branching small without missing any behaviour. `max_states` bounds the work; a
larger budget reaches deeper programs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from mycel_subnet.tasks import programs as P

Example = tuple[list[int], Any]
State = tuple[tuple[int, ...], ...]

_FIXED = (
    [P.Stage(op) for op in ("sort_asc", "sort_desc", "reverse", "dedupe", "abs", "neg")]
    + [P.Stage("keep_even"), P.Stage("keep_odd")]
    + [P.Stage("take", k) for k in range(1, 6)]
    + [P.Stage("drop", k) for k in range(1, 6)]
    + [P.Stage("mul", k) for k in (-3, -2, 2, 3, 4, 5)]
    + [P.Stage("add", c) for c in range(-9, 10) if c]
    + [P.Stage("keep_mod", m, r) for m in (3, 4, 5) for r in range(m)]
)


def _stages(state: State, clamp: bool) -> Iterator[P.Stage]:
    held = sorted({x for xs in state for x in xs})
    for v in held:
        for op in ("keep_gt", "keep_lt"):
            yield P.Stage(op, v)
        yield P.Stage("keep_ge", v)
        yield P.Stage("keep_le", v)
    yield from _FIXED
    if clamp:
        for lo in range(-6, 13):
            for hi in range(lo + 2, lo + 19):
                yield P.Stage("clamp", lo, hi)


def _reduce_matches(state: State, targets: Sequence[Any]) -> tuple[str | None, int] | None:
    if all(isinstance(t, list) for t in targets):
        return (None, 0) if all(list(s) == t for s, t in zip(state, targets, strict=True)) else None
    if not all(isinstance(t, int) and not isinstance(t, bool) for t in targets):
        return None
    for op in P.REDUCE_OPS:
        default = 0
        if op.endswith("_or"):
            empties = {t for s, t in zip(state, targets, strict=True) if not s}
            if len(empties) > 1:
                continue
            default = empties.pop() if empties else 0
        if all(
            P.apply_reduce(op, default, list(s)) == t for s, t in zip(state, targets, strict=True)
        ):
            return op, default
    return None


def synthesise(
    examples: Sequence[Example],
    *,
    depth: int,
    max_states: int,
    clamp: bool = False,
    max_seconds: float | None = None,
) -> P.Program | None:
    """The first (shortest) program found that maps every example input to its output.

    `max_seconds` stops the search early on a loaded machine (the answer must beat the
    validator's deadline); on an idle one `max_states` is what binds."""
    if not examples:
        return None
    stop_at = time.monotonic() + max_seconds if max_seconds else None
    targets = [out for _, out in examples]
    start: State = tuple(tuple(values) for values, _ in examples)
    frontier: dict[State, tuple[P.Stage, ...]] = {start: ()}
    seen = {start}
    for level in range(depth + 1):
        for state, stages in frontier.items():
            if not stages:
                continue
            found = _reduce_matches(state, targets)
            if found is not None:
                return P.Program(stages, found[0], found[1])
        if level == depth:
            return None
        following: dict[State, tuple[P.Stage, ...]] = {}
        for state, stages in frontier.items():
            for stage in _stages(state, clamp):
                nxt = tuple(tuple(P.apply_stage(stage, list(xs))) for xs in state)
                if nxt in seen:
                    continue
                seen.add(nxt)
                following[nxt] = (*stages, stage)
                if len(seen) >= max_states:
                    break
            if len(seen) >= max_states or (stop_at is not None and time.monotonic() > stop_at):
                break
        frontier = following
    return None
