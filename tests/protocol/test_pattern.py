"""The pattern model: validation, round trips and the content-derived id."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from protocol import LearnedPattern, PromptTemplate, pattern_id, template_placeholders
from protocol import limits as L

CREATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def make_pattern(**overrides) -> LearnedPattern:
    data = {
        "creator": "alice.clay.near",
        "created_at": CREATED,
        "trigger": "Find documents matching {criteria} with {filter}",
        "context_requirements": ["a folder of documents"],
        "solution": {
            "kind": "prompt_template",
            "template": "Find all {doc_type} from {company} over {amount}",
            "variables": ["doc_type", "company", "amount"],
        },
        "domain": "document_search",
        "language": "en",
        "usage_count": 3,
        "success_rate": 0.75,
        "avg_rating": 4.5,
        "price_per_use": 10**24,
        "total_earned": 3 * 10**24,
    }
    data.update(overrides)
    return LearnedPattern.model_validate(data)


SOLUTIONS = {
    "prompt_template": {"kind": "prompt_template", "template": "Hi {name}", "variables": ["name"]},
    "code_template": {
        "kind": "code_template",
        "language": "python",
        "code": "def f(x):\n    return x * 2\n",
        "dependencies": ["numpy"],
        "entrypoint": "f",
    },
    "model_adapter": {
        "kind": "model_adapter",
        "base_model": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "adapter_cid": "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",
        "adapter_hash": "ab" * 32,
    },
    "workflow": {
        "kind": "workflow",
        "steps": [
            {"name": "extract", "action": "prompt", "content": "List {x}", "output": "items"},
            {"name": "filter", "action": "code", "content": "def g(items): ...", "output": "kept"},
        ],
    },
}


@pytest.mark.parametrize("kind", sorted(SOLUTIONS))
def test_every_solution_kind_round_trips_through_json(kind: str) -> None:
    pattern = make_pattern(solution=SOLUTIONS[kind])
    wire = pattern.model_dump_json()
    back = LearnedPattern.model_validate_json(wire)
    assert back == pattern
    assert back.solution.kind == kind
    assert back.id == pattern.id


def test_balances_travel_as_decimal_strings_without_precision_loss() -> None:
    big = L.MAX_U128
    pattern = make_pattern(price_per_use=big)
    wire = json.loads(pattern.model_dump_json())
    assert wire["price_per_use"] == str(big)
    assert LearnedPattern.model_validate(wire).price_per_use == big


def test_id_is_derived_from_content_not_provenance_or_stats() -> None:
    a = make_pattern()
    b = make_pattern(creator="bob.near", created_at=datetime(2030, 1, 1, tzinfo=UTC))
    c = make_pattern(usage_count=99, success_rate=0.1, total_earned=0)
    assert a.id == b.id == c.id
    assert make_pattern(trigger="something else").id != a.id
    assert make_pattern(domain="legal").id != a.id


def test_id_is_stable_across_processes_and_key_order() -> None:
    pattern = make_pattern()
    # Same content serialised with reversed key order hashes the same.
    content = pattern.content()
    reordered = dict(reversed(list(content.items())))
    assert pattern_id(reordered) == pattern.id
    # A fresh interpreter (different hash seed) computes the same id from the wire form.
    code = (
        "import sys; from protocol import LearnedPattern; "
        "print(LearnedPattern.model_validate_json(sys.stdin.read()).content_id())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=pattern.model_dump_json(exclude={"id"}),
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
        env={"PYTHONHASHSEED": "123", "PATH": ""},
    )
    assert out.stdout.strip() == pattern.id


def test_unicode_is_normalised_before_hashing() -> None:
    composed = make_pattern(trigger="caf\u00e9 menus")
    decomposed = make_pattern(trigger="cafe\u0301 menus")
    assert composed.id == decomposed.id


def test_given_id_must_match_content() -> None:
    good = make_pattern()
    assert make_pattern(id=good.id).id == good.id
    with pytest.raises(ValidationError, match="id does not match"):
        make_pattern(id="0" * 64)


def test_updated_copy_recomputes_the_id_and_validates() -> None:
    pattern = make_pattern()
    changed = pattern.updated(trigger="Summarise {thing}")
    assert changed.id != pattern.id
    assert changed.id == changed.content_id()
    with pytest.raises(ValidationError):
        pattern.updated(success_rate=2.0)


def test_patterns_are_immutable() -> None:
    pattern = make_pattern()
    with pytest.raises(ValidationError):
        pattern.trigger = "changed"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("template", "variables", "message"),
    [
        ("Find {a} and {b}", ["a"], "missing: \\['b'\\]"),
        ("Find {a}", ["a", "b"], "not in template: \\['b'\\]"),
        ("Find {a}", ["a", "a"], "must not repeat"),
        ("Find {}", [], "plain identifier"),
        ("Find {a.b}", ["a"], "plain identifier"),
        ("Find {a:>10}", ["a"], "format spec"),
        ("Find {a", ["a"], "not a valid format string"),
    ],
)
def test_prompt_template_variables_must_be_exactly_the_placeholders(
    template: str, variables: list[str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        PromptTemplate(template=template, variables=variables)


def test_escaped_braces_are_not_placeholders_and_fill_works() -> None:
    assert template_placeholders("{{literal}} {x} {x}") == ["x"]
    template = PromptTemplate(template="{{json}} for {x}", variables=["x"])
    assert template.fill({"x": "you"}) == "{json} for you"
    with pytest.raises(KeyError, match="x"):
        template.fill({})


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        make_pattern(created_at=datetime(2026, 1, 1))


@pytest.mark.parametrize(
    "creator", ["A", "Alice.near", "bob..near", "-bob.near", "x" * 65, "bob near"]
)
def test_creator_must_be_a_near_account_id(creator: str) -> None:
    with pytest.raises(ValidationError, match="creator"):
        make_pattern(creator=creator)


def test_implicit_near_accounts_are_accepted() -> None:
    assert make_pattern(creator="a" * 64).creator == "a" * 64


@pytest.mark.parametrize("bad", [1.5, True, "-1", "1e3", "9" * 40, -1])
def test_balances_refuse_non_integer_or_out_of_range(bad) -> None:
    with pytest.raises(ValidationError, match="price_per_use"):
        make_pattern(price_per_use=bad)


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        make_pattern(surprise=1)
