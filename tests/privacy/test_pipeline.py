"""extract_shareable: the whole pipeline, end to end, with presidio running offline."""

import numpy as np
import pytest

from mycel_subnet.privacy import PrivacyAccountant, PrivacyBudgetExceeded, extract_shareable

DIALOGUE = (
    "User: Hi, I am Alice (alice@corp.com). Find all invoices from Acme Corp over $10,000\n"
    "Assistant: here is code that reads /home/alice/invoices ..."
)


def test_vision_example_becomes_a_template():
    insight = extract_shareable(DIALOGUE, 1.0, rng=np.random.default_rng(0))
    assert insight is not None
    assert "Find all invoices from {company} over {amount}" in insight.template
    assert "Alice" not in insight.template and "alice@corp.com" not in insight.template
    assert "Acme" not in repr(insight)
    assert insight.variable_names == ("company", "amount")
    assert insight.domain == "document_search"
    assert {"EMAIL", "PERSON"} <= set(insight.redacted_types)


def test_signals_are_noised_and_budgeted():
    accountant = PrivacyAccountant(epsilon_budget=1.0)
    rng = np.random.default_rng(5)
    signals = {"usage_count": 3, "rating": 4.5}
    first = extract_shareable(DIALOGUE, 1.0, signals=signals, rng=rng, accountant=accountant)
    assert first is not None and set(first.signals) == {"usage_count", "rating"}
    assert first.signals["usage_count"] != 3
    with pytest.raises(PrivacyBudgetExceeded):
        extract_shareable(DIALOGUE, 0.5, signals=signals, rng=rng, accountant=accountant)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "User: alice@corp.com 4111 1111 1111 1111",
        "User: Hi Bob, 555-123-4567",
        "ok",
    ],
)
def test_nothing_useful_returns_none(text):
    assert extract_shareable(text, 1.0, rng=np.random.default_rng(0)) is None


def test_bad_budget():
    with pytest.raises(ValueError, match="privacy_budget"):
        extract_shareable(DIALOGUE, 0)
