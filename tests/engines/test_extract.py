"""Rule-based extraction of labelled fields, on its own and against the validator's real
extraction challenges (their hidden answers grade what the baseline engine replies)."""

from __future__ import annotations

import json
import random

import pytest

from mycel_subnet.engines.extract import extract_fields, field_key, requested_fields
from mycel_subnet.validator.challenges import inference as inference_challenges
from mycel_subnet.validator.challenges.checker import SandboxChecker


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
def test_baseline_answers_the_validators_extraction_challenges_exactly(baseline, seed):
    rng = random.Random(seed)
    challenge = inference_challenges._extraction_challenge(rng)
    (request,) = challenge.requests
    result = baseline.inference(request)
    grade = challenge.grade([result], SandboxChecker())
    assert grade.detail.startswith("fields ") and "used=1.0" in grade.detail, grade.detail
    assert grade.accuracy == pytest.approx(1.0), grade.detail
