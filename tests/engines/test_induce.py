"""Template induction from repeated requests, on its own and through the baseline engine's
generate_pattern on logs where three user turns are one hidden template with different fills
(personal data among them): the pattern must read two held-back fillings as instances of
itself, keep the hidden template's fixed text and carry none of the values it was shown."""

from __future__ import annotations

import difflib
import json
import random
import re
import string

import pytest

from mycel_subnet.engines.induce import induce_template
from protocol import GeneratePatternRequest, InteractionLog, Turn

INSTANCES = [
    "Draft a reply to Maria Lopez about invoice 0042 and keep it polite.",
    "Draft a reply to Tom Berg about invoice 7781 and keep it polite.",
    "Draft a reply to Ana Silva about invoice 1200 and keep it polite.",
]

HIDDEN = (
    ("legal", "Review the {doc} signed with {company} and flag every clause about {topic}. "
              "Keep it under {words} words. I am {person}; send the result to {email}."),
    ("devops", "Roll back the {service} deployment in {env} to version {version}. "
               "Contact {person} at {phone} if anything is unclear."),
    ("finance", "Reconcile the {company} invoices for {month} against the ledger totalling "
                "{amount}. Use the API key {api_key} and notify {email} when done."),
    ("hr", "Write interview questions for a {role} candidate focused on {topic}. "
           "Ask {person} on {phone} or by mail at {email}. The deadline is {month}."),
)  # fmt: skip
FIRST = ("Maria", "Tom", "Ana", "Kofi", "Ingrid", "Ravi", "Chen", "Lucia", "Omar", "Greta")
LAST = ("Lopez", "Berg", "Silva", "Mensah", "Holm", "Patel", "Wei", "Rossi", "Haddad", "Vogel")
ACKS = (
    "Done. I will follow up with {value}.",
    "Sure, on it. Confirmation goes to {value}.",
    "Here is a first version; I noted {value} for the follow-up.",
)
PRIVATE = ("person", "email", "phone", "api_key")


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _fill(slot: str, rng: random.Random, person: str) -> str:
    pools = {
        "doc": ("service agreement", "NDA", "licence", "lease", "supply contract"),
        "company": ("Northwind Ltd", "Globex GmbH", "Initech BV", "Hooli Inc", "Stark SA"),
        "topic": ("data retention", "late payment", "termination", "caching", "pricing"),
        "service": ("billing", "auth", "search", "checkout", "ingest"),
        "env": ("staging", "production", "eu-west", "canary", "us-east", "ap-south"),
        "month": ("January", "March", "June", "September", "November"),
        "role": ("data engineer", "paralegal", "product designer", "SRE", "accountant"),
    }
    if slot in pools:
        return rng.choice(pools[slot])
    makers = {
        "words": lambda: str(rng.choice(range(150, 1200, 50))),
        "version": lambda: f"{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}",
        "amount": lambda: f"{rng.randint(100, 99_999)}.{rng.randint(0, 99):02d} EUR",
        "person": lambda: person,
        "email": lambda: f"{person.split()[0].lower()}.{_digits(rng, 3)}@example.com",
        "phone": lambda: f"+44 20 {_digits(rng, 4)} {_digits(rng, 4)}",
        "api_key": lambda: "sk-" + "".join(rng.choice(string.ascii_letters) for _ in range(32)),
    }
    return makers[slot]()


def _slots(template: str) -> list[str]:
    return [field for _, field, _, _ in string.Formatter().parse(template) if field]


def _fillings(template: str, rng: random.Random, count: int) -> list[dict[str, str]]:
    """`count` fillings whose values differ slot by slot (the variable parts show)."""
    out: list[dict[str, str]] = []
    used: dict[str, set[str]] = {slot: set() for slot in _slots(template)}
    people = rng.sample([f"{f} {last}" for f, last in zip(FIRST, LAST, strict=True)], count)
    for person in people:
        values: dict[str, str] = {}
        for slot in used:
            value = _fill(slot, rng, person)
            while value in used[slot]:
                value = _fill(slot, rng, person)
            used[slot].add(value)
            values[slot] = value
        out.append(values)
    return out


def template_matches(template: str, text: str) -> bool:
    """Does `text` read as `template` with every placeholder replaced by non-empty text?"""
    pattern = ""
    for literal, field, _spec, _conv in string.Formatter().parse(template):
        pattern += re.escape(" ".join(literal.split())).replace(r"\ ", r"\s+")
        if field is not None:
            pattern += ".+?"
    return re.fullmatch(pattern, " ".join(text.split()).strip(), flags=re.DOTALL) is not None


def _skeleton_similarity(hidden: str, candidate: str) -> float:
    def skeleton(t: str) -> str:
        parts = string.Formatter().parse(t)
        return " ".join("".join(lit + ("\x00" if f is not None else "") for lit, f, _, _ in parts)
                        .split())  # fmt: skip

    return difflib.SequenceMatcher(None, skeleton(hidden), skeleton(candidate)).ratio()


def test_shared_text_is_kept_and_the_fills_become_variables():
    template = induce_template(INSTANCES)
    assert template is not None
    fields = [f for _, f, _, _ in string.Formatter().parse(template) if f]
    assert len(fields) == 2
    assert template.startswith("Draft a reply to {")
    assert template.endswith("} and keep it polite.")
    for text in INSTANCES:
        assert template_matches(template, text)
    assert not template_matches(template, "Draft a note to Tom Berg about invoice 1 and go.")
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


@pytest.mark.parametrize("index", range(len(HIDDEN)))
def test_baseline_generalises_hidden_templates_without_the_values_shown(baseline, index):
    domain, hidden = HIDDEN[index]
    rng = random.Random(index)
    fillings = _fillings(hidden, rng, 5)
    shown, held = fillings[:3], fillings[3:]
    turns = []
    for values in shown:
        turns.append(Turn(role="user", content=hidden.format(**values)))
        ack_value = values.get("email") or values.get("person")
        turns.append(Turn(role="assistant", content=rng.choice(ACKS).format(value=ack_value)))
    request = GeneratePatternRequest(interaction_log=InteractionLog(turns=turns), domain=domain)
    result = baseline.generate_pattern(request)
    pattern = result.generated_pattern
    assert pattern is not None, result.refusal_reason
    solution = pattern.solution
    assert solution.kind == "prompt_template", solution
    for values in held:
        assert template_matches(solution.template, hidden.format(**values)), solution.template
    assert _skeleton_similarity(hidden, solution.template) > 0.75, solution.template
    content = json.dumps(pattern.content(), ensure_ascii=False).lower()
    private = [v[s] for v in shown for s in PRIVATE if s in v]
    private += [name for v in shown if "person" in v for name in v["person"].split()]
    assert not [value for value in private if value.lower() in content], content
