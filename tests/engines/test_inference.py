"""inference with the baseline: the relevant pattern is chosen over decoys, run in the real
sandbox on arguments taken from the request, and the answer is exact and checkable."""

from __future__ import annotations

import json

import pytest

from mycel_subnet.engines.interface import EngineError
from protocol import InferenceRequest
from tests.engines import builders as b

EVIL_ADD = b.code(
    "What is the sum of these two numbers",  # a closer trigger than ADD's, but unsafe
    "import os\ndef add(a, b):\n    os.system('id')\n    return a + b\n",
    "add",
)
BROKEN_ADD = b.code(b.ADD_TRIGGER, "def add(a, b):\n    raise ValueError('nope')\n", "add")
EXTRACT = b.code(
    "Extract the invoice number and total amount from invoice text",
    "import re\n\ndef extract(text):\n"
    "    number = re.search(r'INV-\\d+', text).group(0)\n"
    "    total = float(re.search(r'total \\$?([\\d.]+)', text).group(1))\n"
    "    return {'invoice': number, 'total': total}\n",
    "extract",
    "finance",
)
DECOYS = [b.REVERSE, b.SUMMARY, b.SLUG, EVIL_ADD]


def ask(engine, query, context="", patterns=()):
    request = InferenceRequest(query=query, context=context, available_patterns=list(patterns))
    return engine.inference(request)


@pytest.mark.parametrize(
    "context",
    ["args: [40, 2]", '{"args": [40, 2]}', '{"a": 40, "b": 2}', "[40, 2]", "a: 40\nb: 2"],
)
def test_relevant_code_runs_on_arguments_from_the_context(baseline, context):
    result = ask(baseline, "Add these two numbers together", context, [*DECOYS, b.ADD])
    assert result.response == "42"
    assert result.patterns_used == [b.ADD.id]


def test_arguments_are_read_from_the_query_text(baseline):
    assert ask(baseline, "What is 17 plus 25?", "", [b.REVERSE, b.ADD]).response == "42"
    result = ask(baseline, "Reverse the string 'hello world'", "", [b.ADD, b.SUMMARY, b.REVERSE])
    assert result.response == "dlrow olleh" and result.patterns_used == [b.REVERSE.id]
    slug = ask(baseline, "Make a URL slug from: Mycel Patterns, Shared!", "", [*DECOYS, b.SLUG])
    assert slug.response == "mycel-patterns-shared" and slug.patterns_used == [b.SLUG.id]


def test_unsafe_pattern_is_never_run_even_when_it_matches_best(baseline):
    result = ask(
        baseline, "What is the sum of these two numbers", "args: [1, 2]", [EVIL_ADD, b.ADD]
    )
    assert result.response == "3" and result.patterns_used == [b.ADD.id]


def test_a_failing_pattern_falls_back_to_the_next_relevant_one(baseline):
    result = ask(baseline, "Add two numbers", "args: [5, 6]", [BROKEN_ADD, b.ADD])
    assert result.response == "11" and result.patterns_used == [b.ADD.id]


def test_structured_extraction_returns_json(baseline):
    query = 'Extract the invoice fields from "Invoice INV-2291 for March, total $1234.50 due"'
    result = ask(baseline, query, "", [b.REVERSE, b.SUMMARY, EXTRACT])
    assert json.loads(result.response) == {"invoice": "INV-2291", "total": 1234.5}
    assert result.patterns_used == [EXTRACT.id]


def test_prompt_template_is_filled_from_the_context_without_a_model(baseline):
    context = "ticket: The app crashes when I log in with SSO."
    result = ask(baseline, "Summarise this support ticket", context, [b.ADD, b.SUMMARY])
    assert result.response == (
        "Summarise this support ticket in three short bullet points: "
        "The app crashes when I log in with SSO."
    )
    assert result.patterns_used == [b.SUMMARY.id]


def test_workflow_runs_step_by_step(baseline):
    result = ask(baseline, 'Count the words in "one two three four"', "", [b.ADD, b.CLEAN_STEPS])
    assert result.response == "The text has 4 words."
    assert result.patterns_used == [b.CLEAN_STEPS.id]


def test_no_relevant_pattern_gives_an_honest_answer(baseline):
    none = ask(baseline, "Translate good morning into French")
    assert none.patterns_used == [] and "none were offered" in none.response
    irrelevant = ask(baseline, "Translate good morning into French", "", [b.ADD, b.SLUG])
    assert irrelevant.patterns_used == [] and "relevant" in irrelevant.response


def test_malformed_explicit_arguments_are_a_clear_error(baseline):
    with pytest.raises(EngineError, match="'args' in the context is not valid JSON"):
        ask(baseline, "Add two numbers", "args: [1, 2", [b.ADD])
