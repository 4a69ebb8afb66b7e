"""The interaction scrubber: learn from a whole log, scrub prose and code of any language,
and catch every learned value in every view with leaks(). The NER model is the real one."""

import base64
import html
import json
import urllib.parse

import pytest

from mycel_subnet.privacy.scrubber import InteractionScrubber, Secret

LOG = [
    ("Hi, I'm Jürgen Müller-Lüdenscheidt. My colleague Siân Llewellyn and Pieter van der Berg "
     "maintain the invoice importer; ask Bjørn if the cron fails.", None),
    ("Mail me at jurgen.m@kraftwerk-analytics.de or call +49 30 1234567. Card 4111 1111 1111 "
     "1111, IBAN DE89370400440532013000.", None),
    ("OPENAI_API_KEY=sk-proj-Zt81bQ0pLwX4mN7rT2vY9cKe\nDB_PASSWORD='Tr0ub4dor&3!'\n"
     "SLACK_BOT_TOKEN=xoxb-123456789012-abcdefghijkl\n", "env"),
    ("def load(path):\n    # written by Siân, see linkedin.com/in/sian-llewellyn-42\n"
     "    owner = 'Jürgen Müller'\n    return read_csv(path)\n", "python"),
    ("name,email,dob\nGwenllian Price,g.price@example.org,18/07/1995\n", "csv"),
]  # fmt: skip
PRIVATE = ["Jürgen", "Müller", "Siân", "Llewellyn", "Pieter", "Bjørn", "Gwenllian", "jurgen.m",
           "kraftwerk-analytics", "1234567", "4111 1111", "DE89370400440532013000",
           "sk-proj-Zt81", "Tr0ub4dor", "xoxb-1234", "sian-llewellyn", "18/07/1995"]  # fmt: skip


@pytest.fixture(scope="module")
def scrubber():
    s = InteractionScrubber()
    for text, lang in LOG:
        s.learn(text, code_language=lang)
    return s


@pytest.mark.parametrize(("text", "lang"), LOG)
def test_every_private_value_is_scrubbed(scrubber, text, lang):
    out = scrubber.scrub(text, code_language=lang)
    low = out.lower()
    assert not [p for p in PRIVATE if p.lower() in low], out
    assert scrubber.leaks(out) == [], [s.kind for s in scrubber.leaks(out)]


def test_code_keeps_identifiers_and_keywords(scrubber):
    out = scrubber.scrub(LOG[3][0], code_language="python")
    assert out.startswith("def load(path):") and "return read_csv(path)" in out
    assert "owner = '<PERSON>'" in out


def test_placeholders_are_typed(scrubber):
    out = scrubber.scrub(LOG[1][0])
    for kind in ("EMAIL", "PHONE", "CREDIT_CARD", "IBAN"):
        assert f"<{kind}>" in out, out
    assert {"EMAIL", "PHONE", "PERSON"} <= scrubber.removed_kinds


@pytest.mark.parametrize(
    "probe",
    [
        "JÜRGEN MÜLLER",  # upper case
        "jurgen muller",  # accent-folded
        "juergen mueller",  # German transliteration
        "https://jurgen-muller.dev/about",  # a name inside a lower-case hostname
        "https://ex.com/u/J%C3%BCrgen",  # URL-encoded
        "S&#238;&#226;n Llewellyn",  # HTML entities
        json.dumps("Siân Llewellyn"),  # JSON \\u escapes
        "L.L.E.W.E.L.L.Y.N",  # separators
        "contact: JURGEN.M at work",  # e-mail local part
        "see kraftwerk-analytics.de",  # private mail domain
        "key Zt81bQ0pLwX4mN7r",  # a partial key (8+ characters of it)
        "pw Tr0ub4dor",  # a partial password
        base64.b64encode(b"token=sk-proj-Zt81bQ0pLwX4mN7rT2vY9cKe").decode(),  # base64
        "0049 30 1234567",  # digits of the phone
        "born 18/07/1995",  # a CSV cell under a private header
        "ask gwenllian",  # lower-case first name learned from the CSV
    ],
)
def test_leaks_sees_every_view(scrubber, probe):
    assert scrubber.leaks(probe), probe


@pytest.mark.parametrize(
    "probe",
    [
        "JÜRGEN MÜLLER wrote it",
        "https://JURGEN-MULLER.example/in/x",
        "Mail " + urllib.parse.quote("jurgen.m@kraftwerk-analytics.de"),
        html.escape("owner: Siân <x>") + " and S&#238;&#226;n",
    ],
)
def test_scrub_removes_learned_values_in_other_views(scrubber, probe):
    out = scrubber.scrub(probe)
    assert scrubber.leaks(out) == [], out


def test_leaks_ignores_public_text(scrubber):
    public = "Parse the CSV with pandas, group invoices by customer and write a summary to Excel."
    assert scrubber.leaks(public) == []
    assert scrubber.scrub(public) == public


def test_particles_and_single_first_names():
    s = InteractionScrubber()
    text = "The meeting with Pieter van der Berg is on Tuesday. Can you help Yusuf fix the script?"
    s.learn(text)
    out = s.scrub(text)
    assert "Pieter" not in out and "Berg" not in out and "Yusuf" not in out, out
    assert "van der" not in out and "Tuesday" in out, out


def test_allowlist_types_unknown_tokens_and_keeps_structure():
    s = InteractionScrubber()
    text = "Order 12345 for project Zorblaxian failed; account 9876543210 and commit a1b2c3d."
    out = s.scrub(text)
    assert "Order 12345" in out  # short numbers are structure
    assert "9876543210" not in out and "<NUMBER>" in out  # long digit runs are not
    assert "a1b2c3d" not in out and "<ID>" in out  # letter+digit tokens that are no vocabulary
    assert "Zorblaxian" not in out


@pytest.mark.parametrize(
    ("lang", "code", "secret"),
    [
        ("yaml", "db:\n  user: admin\n  password: 'Kestrel!415rpc'\n", "Kestrel!415rpc"),
        ("sh", "ssh deploy@bastion-07 'sudo systemctl restart app'\n", "bastion-07"),
        ("js", "// ping Ingrid Halvorsen before merging\nconst x = 1;\n", "Halvorsen"),
        ("sql", "SELECT * FROM users WHERE name = 'Åsa Lindström';\n", "Lindström"),
        ("", "token: ghp_abcdefghijklmnopqrstuvwxyz0123456789\n", "ghp_abcdef"),
        ("toml", '[auth]\napi_key = "9f86d081884c7d659a2feaa0c55ad015"\n', "9f86d081"),
    ],
)
def test_code_and_config_of_any_language(lang, code, secret):
    s = InteractionScrubber()
    s.learn(code, code_language=lang)
    out = s.scrub(code, code_language=lang)
    assert secret.lower() not in out.lower(), out
    assert s.leaks(out) == []


def test_pem_key_whole_block():
    key = (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx3Vf9s8Kd2Lq\nZk1P0aQ7nXw8Rt2Lm4Yb\n"
        "-----END RSA PRIVATE KEY-----"
    )
    s = InteractionScrubber()
    s.learn(f"my key:\n{key}\nthanks")
    assert s.scrub(f"my key:\n{key}\nthanks") == "my key:\n<PRIVATE_KEY>\nthanks"
    assert s.leaks("fragment Zk1P0aQ7nXw8")  # a partial run of the body


def test_secrets_never_in_repr():
    s = InteractionScrubber(use_ner=False)
    s.learn("mail bob.smith@example.com")
    assert all(isinstance(x, Secret) for x in s.secrets)
    assert "bob" not in repr(s.secrets)


def test_without_ner_still_scrubs_cues_and_rare_words():
    s = InteractionScrubber(use_ner=False)
    s.learn("Thanks, Oluwaseun Adeyemi")
    assert "Oluwaseun" not in s.scrub("Oluwaseun said hi")


def test_bad_input():
    s = InteractionScrubber(use_ner=False)
    with pytest.raises(TypeError, match="text must be a str"):
        s.learn(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit"):
        s.scrub("x" * 1_000_001)
    assert s.leaks("") == []
