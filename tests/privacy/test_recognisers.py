"""Each detector fires on a real value (check digits valid) and stays quiet on its near misses:
a wrong check digit, or the same shape in plain technical prose."""

import pytest
from bittensor.keyfiles import Keypair

from mycel_subnet.privacy import checks
from mycel_subnet.privacy.recognisers import find_spans


def kinds_of(text: str, value: str) -> set[str]:
    """Kinds of the spans that cover `value` in `text`."""
    start = text.index(value)
    end = start + len(value)
    return {s.type for s in find_spans(text) if s.start <= start and s.end >= end}


KEYPAIR = Keypair.create_from_mnemonic(Keypair.generate_mnemonic())
SS58 = KEYPAIR.ss58_address
MNEMONIC = Keypair.generate_mnemonic()

POSITIVE = [
    ("CREDIT_CARD", "card 4111 1111 1111 1111 ok", "4111 1111 1111 1111"),
    ("IBAN", "IBAN GB82 WEST 1234 5698 7654 32.", "GB82 WEST 1234 5698 7654 32"),
    ("NATIONAL_ID", "my NI number is AB 12 34 56 C", "AB 12 34 56 C"),
    ("NATIONAL_ID", "PAN ABCPE1234F for the filing", "ABCPE1234F"),
    ("NATIONAL_ID", "Aadhaar 4991 1866 5246 attached", "4991 1866 5246"),
    ("NATIONAL_ID", "DNI 12345678Z", "12345678Z"),
    ("NATIONAL_ID", "NIE X1234567L", "X1234567L"),
    ("NATIONAL_ID", "codice fiscale RSSMRA85T10A562S", "RSSMRA85T10A562S"),
    ("NATIONAL_ID", "mijn BSN is 111222333", "111222333"),
    ("NATIONAL_ID", "Steuer-ID 86095742719", "86095742719"),
    ("NATIONAL_ID", "numéro de sécu 1 85 05 78 006 084 91", "1 85 05 78 006 084 91"),
    ("SSN", "SSN 078-05-1120 on file", "078-05-1120"),
    ("PASSPORT", "passport number 533401372, expires 2031", "533401372"),
    ("PASSPORT", "Reisepass-Nr.: C01X00T47", "C01X00T47"),
    ("PASSPORT", "my passport no. is 12AB34567", "12AB34567"),
    ("HEALTH_ID", "NHS number 943 476 5919", "943 476 5919"),
    ("HEALTH_ID", "Medicare MBI 1EG4-TE5-MK73", "1EG4-TE5-MK73"),
    ("HEALTH_ID", "EHIC card number 80276001234567890123", "80276001234567890123"),
    ("POSTCODE", "Flat 2, London SW1A 1AA", "SW1A 1AA"),
    ("VEHICLE_PLATE", "my car AB12 CDE was towed", "AB12 CDE"),
    ("VEHICLE_PLATE", "plaque AB-123-CD", "AB-123-CD"),
    ("VEHICLE_PLATE", "Kennzeichen B-MK 1234", "B-MK 1234"),
    ("VEHICLE_PLATE", "license plate 7ABC123 in California", "7ABC123"),
    ("SS58_ADDRESS", f"send 1 TAO to {SS58} please", SS58),
    ("BTC_ADDRESS", "btc 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
    (
        "BTC_ADDRESS",
        "to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
    ),
    (
        "ETH_ADDRESS",
        "eth 0x52908400098527886E0F7030069857D2E4169EE7",
        "0x52908400098527886E0F7030069857D2E4169EE7",
    ),
    ("MNEMONIC", f"my coldkey seed: {MNEMONIC}", MNEMONIC),
    ("API_KEY", "AWS AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    (
        "API_KEY",
        "gh ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    ),
    ("API_KEY", "glpat-AbCdEfGhIjKlMnOpQrSt12", "glpat-AbCdEfGhIjKlMnOpQrSt12"),
    ("API_KEY", "slack xoxp-1234567890-abcdefghij12", "xoxp-1234567890-abcdefghij12"),
    ("API_KEY", "twilio AC0123456789abcdef0123456789abcdef", "AC0123456789abcdef"),
    ("API_KEY", "stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39"),
    (
        "API_KEY",
        "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123",
        "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123",
    ),
    (
        "API_KEY",
        "AIzaSyA1234567890abcdefghijklmnopqrstuv",
        "AIzaSyA1234567890abcdefghijklmnopqrstuv",
    ),
    ("API_KEY", "HF hf_abcdefghijklmnopqrstuvwxyz0123456", "hf_abcdefghij"),
    ("SLACK_ID", "DM me, I'm U02ABCD1234 on Slack", "U02ABCD1234"),
    (
        "PRIVATE_KEY",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----",
        "b3BlbnNzaC1rZXk",
    ),
    ("PASSWORD", "the password is `Tr0ub4dor&3`", "Tr0ub4dor&3"),
    ("PASSWORD", 'password: "correct!horse#"', "correct!horse#"),
    ("PASSWORD", "pwd=S3cr3t$x", "S3cr3t$x"),
    ("PASSWORD", "DB_PASSWORD=hunter22!", "hunter22!"),
    ("PASSWORD", "mysql -u root -pSup3rS3cret db", "Sup3rS3cret"),
    ("SECURITY_ANSWER", "my mother's maiden name is Fairweather.", "Fairweather"),
    ("SECURITY_ANSWER", "first pet was called Biscuit", "Biscuit"),
    ("LOGIN", "ssh jdoe@bastion-01 then sudo", "jdoe@bastion-01"),
    ("PROFILE_URL", "see linkedin.com/in/jane-doe-4821", "linkedin.com/in/jane-doe-4821"),
    ("PROFILE_URL", "code at github.com/janedoe", "github.com/janedoe"),
    ("HOST", "deploy to build.acme.internal tonight", "build.acme.internal"),
    ("EMAIL", "write to søren.k@example.dk", "søren.k@example.dk"),
    ("PHONE", "call +49 30 1234567 today", "+49 30 1234567"),
    ("PHONE", "mobile: 07700 900123", "07700 900123"),
    ("DATE_OF_BIRTH", "date of birth: 14/02/1987", "14/02/1987"),
    ("DATE_OF_BIRTH", "born on 3 March 1990 in Leeds", "3 March 1990"),
    ("ADDRESS", "lives at 12 Rue de Rivoli, 75001 Paris", "12 Rue de Rivoli"),
    ("ADDRESS", "Hauptstraße 12, 10115 Berlin", "Hauptstraße 12, 10115 Berlin"),
    ("ADDRESS", "at 221B Baker Street, London NW1 6XE", "221B Baker Street, London NW1 6XE"),
    ("PERSON", "Hej Åsa, the build is green", "Åsa"),
    ("PERSON", "Thanks,\nSiân Llewellyn", "Siân Llewellyn"),
    ("PERSON", "My name is Pieter van der Berg.", "Pieter van der Berg"),
    ("PERSON", "ask Bjørn about it", "Bjørn"),
]


@pytest.mark.parametrize(
    ("kind", "text", "value"), POSITIVE, ids=[f"{p[0]}-{i}" for i, p in enumerate(POSITIVE)]
)
def test_detects(kind, text, value):
    assert kind in kinds_of(text, value), list(find_spans(text))


# (text, the kind that must not fire); None: nothing at all may fire.
NEAR_MISSES = [
    ("card 4111 1111 1111 1112 fails Luhn", None),
    ("IBAN GB82 WEST 1234 5698 7654 33 fails mod 97", None),
    ("DNI 12345678A has the wrong letter", None),
    ("codice RSSMRA85T10A562T has the wrong check letter", None),
    ("BSN 111222334 fails the 11-test", None),
    ("NHS number 943 476 5918 fails mod 11", "HEALTH_ID"),  # still phone-shaped: PHONE may fire
    ("SSN 666-12-3456 is never issued", None),
    ("Steuer-ID 86095742710 fails its check digit", None),
    ("my NI number is BG 12 34 56 C", None),  # reserved prefix
    ("PAN ABCXE1234F", None),  # X is no holder type
    ("order 12345 shipped; commit a1b2c3d merged", None),
    ("pip install numpy==2.4.6 and torch 2.13.0", None),
    ("Bind to 127.0.0.1:8080 or 0.0.0.0", None),
    ("the password hashing uses bcrypt; password is required", None),
    ("@property\ndef name(self):\n    return self._name", None),
    ("docker run -p 8080:80 nginx", None),
    ("timestamp 1700000000000 in ms", None),
    ("SELECT id FROM users WHERE id = 123456789", None),
    ("HTTP/1.1 200 OK in 12 ms; UTF-8 everywhere", None),
    ("see https://docs.python.org/3/library/ast.html", None),
    ("password = os.environ['DB_PASSWORD']", None),
    ("abandon the old approach and use a new one", None),
    ("EHIC card number pending", None),
    ("passport photos are required", None),
]


@pytest.mark.parametrize(("text", "kind"), NEAR_MISSES)
def test_near_misses_do_not_fire(text, kind):
    found = [(s.type, text[s.start : s.end]) for s in find_spans(text)]
    if kind is None:
        assert found == []
    else:
        assert kind not in {k for k, _ in found}, found


def test_ss58_checksum_is_checked():
    broken = SS58[:-1] + ("A" if SS58[-1] != "A" else "B")
    assert checks.ss58_ok(SS58) and not checks.ss58_ok(broken)
    assert "SS58_ADDRESS" not in {s.type for s in find_spans(f"to {broken}")}


def test_twelve_bip39_words_in_prose_are_not_a_mnemonic():
    text = "please make sure the code runs on every machine we own before friday"
    assert "MNEMONIC" not in {s.type for s in find_spans(text)}
