"""Rule-based extraction of labelled fields, on its own and through the baseline engine's
inference on documents of labelled fields among noise, with the extraction pattern offered
among decoys (the answer must be exactly the requested fields, attributed to that pattern)."""

from __future__ import annotations

import json
import random
import string
from datetime import UTC, datetime

import pytest

from mycel_subnet.engines.extract import extract_fields, field_key, requested_fields
from protocol import CodeTemplate, InferenceRequest, LearnedPattern, PromptTemplate


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


# document kind -> {field: generator}
DOCUMENTS = {
    "invoice": {
        "invoice_number": lambda r: f"INV-{_digits(r, 6)}",
        "vendor": lambda r: r.choice(("Globex GmbH", "Initech BV", "Hooli Inc", "Acme SA")),
        "total": lambda r: f"{r.randint(10, 9999)}.{_digits(r, 2)}",
        "due_date": lambda r: f"2026-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
        "currency": lambda r: r.choice(("EUR", "USD", "GBP", "CHF")),
    },
    "incident": {
        "incident_id": lambda r: f"INC-{_digits(r, 5)}",
        "service": lambda r: r.choice(("billing", "auth", "search", "ingest")),
        "severity": lambda r: r.choice(("SEV1", "SEV2", "SEV3")),
        "region": lambda r: r.choice(("eu-west-1", "us-east-2", "ap-south-1")),
        "duration_min": lambda r: str(r.randint(3, 400)),
    },
    "shipment": {
        "tracking_number": lambda r: f"PX{_digits(r, 9)}NL",
        "carrier": lambda r: r.choice(("DHL", "UPS", "PostNL", "La Poste")),
        "destination": lambda r: r.choice(("Lyon", "Graz", "Porto", "Tartu", "Bergen")),
        "weight_kg": lambda r: f"{r.randint(1, 80)}.{r.randint(0, 9)}",
        "parcels": lambda r: str(r.randint(1, 12)),
    },
}
NOISE = (
    "Notes: please keep this document for your records.",
    "Prepared by the operations desk.",
    "Status: draft pending approval.",
    "Page 1 of 1",
)


def _pattern(trigger: str, solution, domain: str = "data") -> LearnedPattern:
    return LearnedPattern(
        creator="alice.test", created_at=datetime(2026, 1, 1, tzinfo=UTC), trigger=trigger,
        solution=solution, domain=domain,
    )  # fmt: skip


def _extraction_pattern(kind: str) -> LearnedPattern:
    template = (
        f"From the {kind} below, extract {{fields}} and answer with a JSON object using exactly "
        "those keys.\n\n{document}"
    )
    solution = PromptTemplate(template=template, variables=["fields", "document"])
    return _pattern(f"Extract named fields from a {kind} as JSON", solution)


def _extraction_request(seed: int) -> tuple[InferenceRequest, dict[str, str], str]:
    """A document, the query for some of its fields, and the offered patterns."""
    rng = random.Random(seed)
    kind = rng.choice(list(DOCUMENTS))
    values = {field: make(rng) for field, make in DOCUMENTS[kind].items()}
    lines = [f"{field.replace('_', ' ').title()}: {value}" for field, value in values.items()]
    lines += rng.sample(NOISE, 2)
    rng.shuffle(lines)
    wanted = rng.sample(list(values), rng.randint(2, 4))
    relevant = _extraction_pattern(kind)
    decoys = [_extraction_pattern(k) for k in DOCUMENTS if k != kind]
    add = CodeTemplate(
        language="python", code="def add(a, b):\n    return a + b\n", entrypoint="add"
    )
    decoys.append(_pattern("Add two numbers together and return their sum", add))
    offered = [relevant, *decoys]
    rng.shuffle(offered)
    query = (
        f"Extract {', '.join(wanted)} from the {kind} in the context. "
        "Answer with a JSON object using exactly those keys."
    )
    request = InferenceRequest(query=query, context="\n".join(lines), available_patterns=offered)
    return request, {field: values[field] for field in wanted}, relevant.id


def test_labels_become_the_keys_requests_use():
    assert field_key("Invoice Number") == "invoice_number"
    assert field_key(" Due-Date ") == "due_date"


def test_fields_come_back_in_the_order_the_query_names_them():
    facts = {"Invoice Number": "INV-004211", "Total": "12.50", "Due Date": "2026-03-01"}
    answer = extract_fields("Extract due_date and invoice number as JSON", facts)
    assert answer is not None
    assert list(json.loads(answer).items()) == [
        ("due_date", "2026-03-01"),
        ("invoice_number", "INV-004211"),
    ]


def test_no_named_field_means_no_rule_based_answer():
    assert extract_fields("Summarise the invoice", {"Total": "12.50"}) is None
    # "total" inside another word is not a request for the total
    assert requested_fields("the totality of it", ["total"]) == []


@pytest.mark.parametrize("seed", range(6))
def test_baseline_extracts_exactly_the_requested_fields_with_the_right_pattern(baseline, seed):
    request, expected, relevant_id = _extraction_request(seed)
    result = baseline.inference(request)
    answer = json.loads(result.response)
    assert answer == expected, (request.query, request.context, result.response)
    assert list(answer) == list(expected)  # in the order the query names them
    assert result.patterns_used == [relevant_id], result.patterns_used
