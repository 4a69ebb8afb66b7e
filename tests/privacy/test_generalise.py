"""Generalisation turns specifics into named variables and keeps the originals private."""

import pytest

from mycel_subnet.privacy import generalise


@pytest.mark.parametrize(
    ("text", "template", "variables"),
    [
        (
            "Find all invoices from Acme Corp over $10,000",
            "Find all invoices from {company} over {amount}",
            {"company": "Acme Corp", "amount": "$10,000"},
        ),
        (
            "Send the report for Globex to /home/alice/reports/q3.pdf by March 5, 2024",
            "Send the report for {company} to {path} by {date}",
            {"company": "Globex", "path": "/home/alice/reports/q3.pdf", "date": "March 5, 2024"},
        ),
        (
            'Ticket JIRA-1234 failed on 2024-01-15 with "timeout error" after 3 retries',
            "Ticket {id} failed on {date} with {quoted} after {number} retries",
            {"id": "JIRA-1234", "date": "2024-01-15", "quoted": '"timeout error"', "number": "3"},
        ),
        (
            "Pay 500 EUR to Initech Ltd and 20 EUR to Initech Ltd",
            "Pay {amount} to {company} and {amount_2} to {company}",
            {"amount": "500 EUR", "company": "Initech Ltd", "amount_2": "20 EUR"},
        ),
    ],
)
def test_examples(text, template, variables):
    result = generalise(text)
    assert result.template == template
    assert result.variables == variables
    assert result.render() == text


def test_generic_text_unchanged():
    text = "Write a function in Python that parses JSON from stdin"
    assert generalise(text).template == text


def test_braces_escaped_and_round_trip():
    text = "Use {x} in f-strings for Acme Corp costing $5"
    result = generalise(text)
    assert "{{x}}" in result.template
    assert result.render() == text


def test_values_hidden_from_repr():
    result = generalise("invoices from Acme Corp")
    assert "Acme" not in repr(result)


def test_pii_placeholders_untouched():
    result = generalise("email <EMAIL> about 12 items")
    assert result.template == "email <EMAIL> about {number} items"
