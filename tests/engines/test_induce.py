"""Template induction from repeated requests, on its own and graded by the validator's real
generate_pattern challenges (hidden template, held-back fills, planted PII)."""

from __future__ import annotations

import random
import string

import pytest

from mycel_subnet.engines.induce import induce_template
from mycel_subnet.validator.challenges import generate as generate_challenges
from mycel_subnet.validator.challenges.checker import SandboxChecker

INSTANCES = [
    "Draft a reply to Maria Lopez about invoice 0042 and keep it polite.",
    "Draft a reply to Tom Berg about invoice 7781 and keep it polite.",
    "Draft a reply to Ana Silva about invoice 1200 and keep it polite.",
]


def test_shared_text_is_kept_and_the_fills_become_variables():
    template = induce_template(INSTANCES)
    assert template is not None
    fields = [f for _, f, _, _ in string.Formatter().parse(template) if f]
    assert len(fields) == 2
    assert template.startswith("Draft a reply to {")
    assert template.endswith("} and keep it polite.")
    for text in INSTANCES:
        assert generate_challenges.template_matches(template, text)
    assert "Maria" not in template and "7781" not in template


def test_braces_in_the_shared_text_are_escaped():
    template = induce_template(["Format {x} for Ann now please", "Format {x} for Bob now please"])
    assert template is not None
    assert template.format(**{f: "Z" for _, f, _, _ in string.Formatter().parse(template) if f})
    assert "{{x}}" in template


@pytest.mark.parametrize(
    "instances",
    [
        ["only one request here"],
        ["same text twice exactly", "same text twice exactly"],
        ["completely different words", "nothing in common at all"],
    ],
)
def test_nothing_to_learn_gives_none(instances):
    assert induce_template(instances) is None


def _prompt_challenges(count: int):
    found, seed = [], 0
    while len(found) < count:
        rng = random.Random(seed)
        seed += 1
        challenge = generate_challenges._prompt_challenge(rng)
        found.append(challenge)
    return found


@pytest.mark.parametrize("index", range(4))
def test_baseline_generalises_the_validators_hidden_templates(baseline, index):
    challenge = _prompt_challenges(4)[index]
    (request,) = challenge.requests
    result = baseline.generate_pattern(request)
    grade = challenge.grade([result], SandboxChecker())
    assert not grade.detail.startswith("leaked"), grade.detail
    assert grade.detail.startswith("matched 2/2"), grade.detail
    assert grade.accuracy > 0.75, grade.detail
