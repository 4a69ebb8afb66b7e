"""generate_pattern through the real privacy pipeline and the real sandbox: planted personal data
never survives, specifics become variables, code generalises and still passes hidden tests, and
useless logs are refused with a reason."""

from __future__ import annotations

import pytest

from mycel_subnet.engines.interface import EngineError
from mycel_subnet.sandbox import run_tests
from protocol import (
    CodeTemplate,
    GeneratePatternRequest,
    LearnedPattern,
    PromptTemplate,
    Workflow,
)
from tests.engines import builders as b

EMAIL, PHONE = "alice.johnson@example.com", "+1 415 555 0134"
KEY = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"
NAME = "Alice Johnson"
PLANTED = [EMAIL, PHONE, KEY, NAME, "Alice", "Johnson", "415 555 0134"]

CODE_LOG = b.log(
    (
        "user",
        f"Hi, I'm {NAME} ({EMAIL}, {PHONE}). Please write a Python function that turns an "
        f"article title into a URL slug, max 40 characters. My API key is {KEY} if needed.",
    ),
    (
        "assistant",
        "Sure Alice! Here it is:\n```python\nimport re\n\n"
        f"OWNER = '{EMAIL}'\n\n"
        "def slugify(title):\n"
        f"    # written for {NAME}\n"
        f"    headers = {{'Authorization': 'Bearer {KEY}'}}\n"
        "    slug = re.sub(r'[^a-z0-9]+', '-', title.lower()).strip('-')\n"
        "    return slug[:40].rstrip('-') if len(slug) > 40 else slug\n\n"
        "print(slugify('Hello World'))\n```\n"
        "It lower-cases the title, replaces runs of other characters with dashes and trims.",
    ),
    ("user", f"Thanks! -- {NAME}"),
)


def generate(engine, log, domain="coding", creator=None):
    request = GeneratePatternRequest(interaction_log=log, domain=domain, creator=creator)
    return engine.generate_pattern(request)


def assert_no_pii(result, planted=PLANTED):
    shared = result.model_dump_json()
    for value in planted:
        assert value not in shared, f"{value!r} leaked"


def test_code_log_gives_a_code_template_without_any_planted_pii(baseline):
    result = generate(baseline, CODE_LOG)
    assert_no_pii(result)
    pattern = result.generated_pattern
    assert isinstance(pattern.solution, CodeTemplate)
    assert pattern.solution.entrypoint == "slugify"
    assert "print(" not in pattern.solution.code  # demo calls are specifics, not the pattern
    assert "<API_KEY>" in pattern.solution.code or "api_key" in pattern.solution.code
    assert "<person>" not in pattern.trigger.lower() and "slug" in pattern.trigger
    again = LearnedPattern.model_validate(pattern.model_dump(mode="json"))
    assert again.id == pattern.id


def test_generated_code_passes_hidden_tests(baseline):
    code = generate(baseline, CODE_LOG).generated_pattern.solution
    hidden = [
        (["Hello World"], "hello-world"),
        (["  Mycel: patterns, shared!  "], "mycel-patterns-shared"),
        (["a" * 50], "a" * 40),
    ]
    run = run_tests(code.code, code.entrypoint, hidden)
    assert run.pass_rate == 1.0, run.cases


def test_magic_numbers_become_parameters_with_the_same_default(baseline):
    log = b.log(
        ("user", "Write a function that adds VAT to a net price."),
        ("assistant", "```python\ndef gross(net):\n    return round(net * 1.19, 2)\n```"),
    )
    code = generate(baseline, log).generated_pattern.solution
    assert "factor=1.19" in code.code.replace(" ", "")
    run = run_tests(code.code, "gross", [([100], 119.0), ([10], 11.9)])
    assert run.pass_rate == 1.0


def test_prompt_template_turns_specifics_into_variables(baseline):
    log = b.log(
        (
            "user",
            "Hi Bob Stone, call me at 415-555-0134 or mail bob@stone.io. Find all invoices "
            "from Acme Corp over $5,000 from March 2024 and email the summary to finance.",
        ),
        (
            "assistant",
            "I searched the invoice folder for Acme Corp, kept those above $5,000 dated "
            "March 2024, and sent a summary table with monthly totals to the finance team.",
        ),
    )
    result = generate(baseline, log, "document_search")
    assert_no_pii(result, ["Bob", "Stone", "415-555-0134", "bob@stone.io", "Acme", "5,000"])
    pattern = result.generated_pattern
    assert isinstance(pattern.solution, PromptTemplate)
    assert {"company", "amount", "date"} <= set(pattern.solution.variables)
    assert "{company}" in pattern.solution.template
    assert pattern.trigger.startswith("Find all invoices from <company> over <amount>")
    assert pattern.context_requirements == ["company", "amount", "date"]
    assert pattern.domain == "document_search"


def test_names_outside_greetings_are_removed(baseline):
    log = b.log(
        (
            "user",
            "My colleague Priya Sharma needs a short status update about the database "
            "migration. Sarah Connor signs it off tomorrow.",
        ),
        (
            "assistant",
            "Draft: The database migration finished its second phase; Priya will verify the "
            "backups before Sarah approves the cut-over.",
        ),
    )
    result = generate(baseline, log, "communication")
    assert_no_pii(result, ["Priya", "Sharma", "Sarah", "Connor"])
    assert result.generated_pattern is not None


@pytest.mark.parametrize(
    ("turns", "outcome", "reason"),
    [
        ([("user", "hi"), ("assistant", "Hello! How can I help you today?")], "success", "utility"),
        ([("user", "Thanks, Alice!"), ("assistant", "You're welcome.")], "success", "utility"),
        (
            [("user", f"my email is {EMAIL} and my phone {PHONE}"), ("assistant", "Noted.")],
            "success",
            "utility",
        ),
        (
            [
                ("user", "Please convert the quarterly sales report to a PDF file"),
                ("assistant", "Ok"),
            ],
            "success",
            "no reusable solution",
        ),
        (
            [("user", "Convert the quarterly report to a PDF file"), ("assistant", "Done, sent.")],
            "failure",
            "failed",
        ),
        ([("assistant", "Here is a general tip about writing tests.")], "success", "no user"),
    ],
)
def test_useless_logs_are_refused_with_a_reason(baseline, turns, outcome, reason):
    result = generate(baseline, b.log(*turns, outcome=outcome))
    assert result.generated_pattern is None
    assert reason in result.refusal_reason


def test_unsafe_code_is_never_shared_as_code(baseline):
    log = b.log(
        ("user", "Write a helper that cleans the temporary build folder of the project."),
        (
            "assistant",
            "```python\nimport os\n\ndef clean(path):\n    os.system('rm -rf ' + path)\n```\n"
            "It removes the build folder recursively.",
        ),
    )
    pattern = generate(baseline, log).generated_pattern
    assert pattern is not None and not isinstance(pattern.solution, CodeTemplate)
    assert "os.system" not in pattern.model_dump_json()


def test_tool_assisted_logs_become_workflows(baseline):
    log = b.log(
        ("user", "Find the three largest files in the /srv/data folder and summarise them."),
        ("assistant", "First I list every file in the folder with its size in bytes."),
        ("tool", "a.csv 1200\nb.csv 98000\nc.log 5000000"),
        ("assistant", "Then I sort the files by size and keep the three largest ones."),
        ("tool", "c.log, b.csv, a.csv"),
        ("assistant", "Finally I summarise each of the three files in one sentence each."),
    )
    pattern = generate(baseline, log, "files").generated_pattern
    assert isinstance(pattern.solution, Workflow)
    assert len(pattern.solution.steps) == 4
    assert "{path}" in pattern.solution.steps[0].content
    assert "c.log" not in pattern.model_dump_json()  # tool output is private data


def test_script_without_function_is_wrapped_into_a_callable(baseline):
    log = b.log(
        ("user", "How do I count the vowels in the word banana using Python?"),
        ("assistant", "```python\nword = 'banana'\nprint(sum(c in 'aeiou' for c in word))\n```"),
    )
    code = generate(baseline, log).generated_pattern.solution
    assert code.entrypoint == "run"
    assert run_tests(code.code, "run", [([], 3)]).pass_rate == 1.0


def test_creator_is_used_and_checked(baseline):
    pattern = generate(baseline, CODE_LOG, creator="bob.near").generated_pattern
    assert pattern.creator == "bob.near"
    with pytest.raises(EngineError, match="creator 'Not An Account!' is not a NEAR account id"):
        generate(baseline, CODE_LOG, creator="Not An Account!")
