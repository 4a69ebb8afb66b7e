"""Issue 11's acceptance test: the privacy corpus (tests/privacy/corpus) through every sharing
path of the real code: no planted private item may appear in anything a shared pattern exposes,
under any view the independent judge knows, and at most 5% of the logs that hold a reusable
insight may be refused. On failure each leak is listed as log id, kind, the value masked to its
first three characters, the view that found it and the field it was in."""

from __future__ import annotations

import pytest

from tests.privacy.corpus import judge, load_corpus
from tests.privacy.corpus.paths import BUILDERS, PATHS, Outcome

MAX_FALSE_REFUSALS = 0.05


@pytest.fixture(scope="module")
def outcomes() -> dict[str, list[tuple[object, Outcome]]]:
    logs = load_corpus()
    runs = {}
    for path in PATHS:
        run = BUILDERS[path]()
        runs[path] = [(log, run(log)) for log in logs]
    return runs


@pytest.mark.slow
@pytest.mark.parametrize("path", PATHS)
def test_no_planted_item_leaks(outcomes, path):
    leaks = [leak for log, out in outcomes[path] for leak in judge(log, out.exposed)]
    total = sum(len(log.items) for log, _ in outcomes[path])
    report = "\n".join(
        f"  {leak.log_id} | {leak.kind} | {leak.masked} | {leak.view} | {leak.field}"
        for leak in leaks
    )
    logs = len({leak.log_id for leak in leaks})
    assert not leaks, (
        f"{path}: {len(leaks)} of {total} planted items leak in {logs} logs "
        f"(log | kind | value | view | field):\n{report}"
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", PATHS)
def test_false_refusals_are_rare(outcomes, path):
    useful = [(log, out) for log, out in outcomes[path] if not log.should_refuse]
    false = [(log, out) for log, out in useful if out.refused]
    report = "\n".join(f"  {log.id}: {out.reason[:160]}" for log, out in false)
    assert len(false) <= MAX_FALSE_REFUSALS * len(useful), (
        f"{path}: {len(false)} of {len(useful)} logs with a reusable insight were refused "
        f"(at most {MAX_FALSE_REFUSALS:.0%} may be):\n{report}"
    )
