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
    assert "alice" not in insight.template.lower()
    assert "Acme" not in repr(insight)
    assert insight.variable_names[:2] == ("company", "amount")
    assert insight.domain == "document_search"
    assert "EMAIL" in insight.redacted_types


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


def test_the_whole_text_is_scrubbed_before_anything_is_cut():
    """A long log: the PEM key ends far past 500 characters and a name shows up only in a later
    line; both must be gone, and the request from the second line must still be found."""
    pem_body = "\n".join("MIIEpAIBAAKCAQEA" + "x" * 48 for _ in range(12))
    text = (
        "User: Hi there.\n"
        "How do I load a signing key from a file and sign a message with it in Python?\n"
        f"-----BEGIN RSA PRIVATE KEY-----\n{pem_body}\n-----END RSA PRIVATE KEY-----\n"
        "Assistant: Read the file with the cryptography package, load the key from its bytes, "
        "then sign the message with padding and a hash.\n"
        "User: Thanks, signed by Gwenllian Morgan-Price (gwen.mp@example.org)"
    )
    insight = extract_shareable(text, 1.0, rng=np.random.default_rng(0))
    assert insight is not None
    shared = repr(insight) + insight.template
    assert "MIIEpAIBAAKCAQEA" not in shared and "xxxxxxxx" not in shared
    assert "Gwenllian" not in shared and "gwen.mp" not in shared
    assert "sign a message" in insight.template
    assert "cryptography package" in insight.template  # the approach, from the assistant


def test_values_in_code_blocks_are_learned_and_removed_from_prose():
    text = (
        "User: Why does my service fail to connect to the database? Config:\n"
        "```yaml\ndb:\n  password: Hq3!vRt9#Lm2\n  user: svc_ledger\n```\n"
        "It says the password Hq3!vRt9#Lm2 is wrong for svc_ledger.\n"
        "Assistant: Check that the YAML value is quoted, because an exclamation mark and a hash "
        "change how YAML parses the line, then restart the service."
    )
    insight = extract_shareable(text, 1.0, rng=np.random.default_rng(0))
    assert insight is not None
    assert "Hq3!vRt9#Lm2" not in insight.template and "hq3" not in insight.template.lower()
