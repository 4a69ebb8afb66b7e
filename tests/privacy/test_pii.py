"""Planted PII of every kind is removed; ordinary developer text is left intact. presidio runs
for real (offline, blank spaCy pipeline); the regex-only fallback is tested too."""

import logging

import pytest

from mycel_subnet.privacy import presidio_engine, remove_pii

PLANTED = [
    ("EMAIL", "Contact bob.smith@example.com for access.", "bob.smith@example.com"),
    ("PHONE", "Call me on +1 415-555-0132 tomorrow.", "415-555-0132"),
    ("PHONE", "Office: (020) 7946 0958.", "7946 0958"),
    ("CREDIT_CARD", "Charge card 4111 1111 1111 1111 please.", "4111 1111 1111 1111"),
    ("CREDIT_CARD", "card=5500-0000-0000-0004", "5500-0000-0000-0004"),
    ("IP_ADDRESS", "The server is at 203.0.113.7 now.", "203.0.113.7"),
    ("IP_ADDRESS", "v6 host 2001:db8:85a3::8a2e:370:7334 fails", "2001:db8"),
    ("IBAN", "Pay to GB82 WEST 1234 5698 7654 32 today.", "GB82 WEST"),
    ("IBAN", "IBAN DE89370400440532013000", "DE89370400440532013000"),
    ("API_KEY", "OPENAI key sk-proj-abcdefghijklmnopqrstuvwx1234", "sk-proj-abcdef"),
    ("API_KEY", "export GH=ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdef"),
    ("API_KEY", "aws AKIAIOSFODNN7EXAMPLE key", "AKIAIOSFODNN7EXAMPLE"),
    ("API_KEY", "slack xoxb-123456789012-abcdefghijkl", "xoxb-1234"),
    (
        "API_KEY",
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9P",
        "eyJhbGciOiJIUzI1NiJ9",
    ),
    ("API_KEY", "API_KEY=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", "9f86d081884c"),
    ("API_KEY", 'client_secret: "dGhpcyBpcyBhIHNlY3JldCB2YWx1ZQ=="', "dGhpcyBpcyBh"),
    ("API_KEY", "Authorization: Bearer abcDEF123456ghiJKL789", "abcDEF123456"),
    ("API_KEY", "GET https://api.example.com/v1?api_key=abcd1234efgh5678", "abcd1234efgh5678"),
    ("URL", "DB at postgres://admin:hunter2@db.internal:5432/app", "hunter2"),
    ("ADDRESS", "Ship it to 221 Baker Street, London please", "221 Baker Street"),
    ("ADDRESS", "I live at 1600 Pennsylvania Avenue, Washington, DC 20500.", "1600 Pennsylvania"),
    ("ADDRESS", "Adresse: Hauptstraße 12, 10115 Berlin", "Hauptstraße 12"),
    ("PERSON", "Hi Alice,\ncan you check the build?", "Alice"),
    ("PERSON", "Looks good.\n\nThanks, Bob", "Bob"),
    ("PERSON", "See you then.\nCheers,\nCarol Jones", "Carol"),
    ("PERSON", "Hello Dmitri Ivanov, welcome", "Dmitri"),
    ("PERSON", "My name is Erin and I maintain this.", "Erin"),
    ("SSN", "SSN 078-05-1120 on file", "078-05-1120"),
    (
        "PRIVATE_KEY",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
        "MIIEow",
    ),
]


@pytest.mark.parametrize(
    ("kind", "text", "secret"), PLANTED, ids=[f"{p[0]}-{i}" for i, p in enumerate(PLANTED)]
)
def test_planted_pii_removed(kind, text, secret):
    result = remove_pii(text)
    assert secret not in result.text, result.text
    assert f"<{kind}>" in result.text, result.text
    assert kind in result.types()


@pytest.mark.parametrize(("kind", "text", "secret"), PLANTED[:20])
def test_regex_fallback_alone_still_removes(kind, text, secret):
    result = remove_pii(text, use_presidio=False)
    assert secret not in result.text and result.engine == "regex"


def test_presidio_really_ran():
    result = remove_pii("mail bob@example.com")
    assert result.engine == "presidio+regex"


DEV_TEXT = [
    "def parse(path: str) -> dict:\n    for i in range(10):\n        x = items[i] * 2.5",
    'return {"version": "1.2.3", "port": 8080, "date": "2024-01-15"}',
    "See https://docs.python.org/3/library/ast.html for details",
    "git commit abc1234 && pip install numpy==2.4.6",
    "timeout=30; use self.token_count and max_tokens=4096",
    "Bind to 127.0.0.1:8080 or 0.0.0.0 in Docker",
    "Hi there, the tests fail on Python 3.11 with KeyError: 'token'",
    "Best practices: password hashing with bcrypt, never log the api_key variable",
    "SELECT id, amount FROM invoices WHERE amount > 10000 ORDER BY created_at",
    "Thanks for the review! The function returns None when the list is empty.",
]


@pytest.mark.parametrize("text", DEV_TEXT)
def test_developer_text_left_intact(text):
    result = remove_pii(text)
    assert result.text == text, result.text
    assert result.findings == ()


def test_findings_point_into_original_text():
    text = "Hi Alice, mail me at a@b.io"
    result = remove_pii(text)
    spans = {f.type: text[f.start : f.end] for f in result.findings}
    assert spans == {"PERSON": "Alice", "EMAIL": "a@b.io"}


def test_fallback_logs_a_warning(monkeypatch, caplog, tmp_path):
    def broken(_path):
        raise ImportError("presidio_analyzer missing")

    monkeypatch.setattr(presidio_engine, "_build", broken)
    with caplog.at_level(logging.WARNING):
        result = remove_pii("mail bob@example.com", model_dir=tmp_path / "other")
    assert result.engine == "regex" and "<EMAIL>" in result.text
    assert "falls back to regex" in caplog.text


def test_bad_input():
    with pytest.raises(TypeError, match="text must be a str"):
        remove_pii(None)  # type: ignore[arg-type]
