# ruff: noqa: E501 - regex rule tables read best one rule per line
"""Regex recognisers for personal data and secrets in developer text. Where a format has a check
digit it is verified (checks.py), so digit runs in code are not over-redacted; where it has none
(passports, plates, EHIC numbers) the rule is keyed on a context word before the value.

Names here are only those with a cue (greeting, signature, "my name is", a title, "ask X");
names without a cue are the NER model's job (ner.py) and the vocabulary allowlist's.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from mycel_subnet.privacy import checks
from mycel_subnet.privacy.checks import iban_ok, luhn_ok

__all__ = ["PATTERNS", "Span", "find_spans", "iban_ok", "luhn_ok"]


@dataclass(frozen=True)
class Span:
    """One detected entity: its type (the placeholder name), where, and who found it."""

    type: str
    start: int
    end: int
    source: str = "regex"


# A capitalised name word in any alphabet: "Jürgen", "Siân", "O'Neill", "Łukasz", "Ærø".
_UP = r"[^\W\d_a-z]"
_LOW = r"[^\W\d_A-Z]"
_WORD = rf"{_UP}(?:{_LOW}|['’]{_UP})+"
_PARTICLE = r"(?:van der|van den|van de|van|von|de la|de|del|della|da|dos|das|di|du|le|la|ter|ten|bin|ibn|al|el|mac|ap)"
_NAME = rf"{_WORD}(?:-{_WORD})?(?:[ \t](?:{_PARTICLE}[ \t])?{_WORD}(?:-{_WORD})?){{0,2}}"
_NOT_MENTIONS = {
    "here", "channel", "everyone", "param", "return", "returns", "throws", "type", "todo", "see",
    "since", "deprecated", "author", "example", "override", "link", "media", "import", "keyframes",
    "font", "apply", "tailwind", "layer", "use", "forward", "include", "mixin", "extend", "if",
    "else", "each", "function", "property", "staticmethod", "classmethod", "dataclass", "app",
    "router", "pytest", "latest", "next", "types", "angular", "babel", "vue", "version", "raise",
}  # fmt: skip
_NOT_NAMES = {
    "All", "Again", "Everyone", "Everybody", "Folks", "Guys", "There", "Team", "World", "For",
    "So", "In", "Practice", "Practices", "Regards", "Wishes", "The", "This", "That", "Thanks",
    "Please", "Sir", "Madam", "Python", "I", "Both", "You", "Me", "Here", "Now", "Not",
    "Sure", "Just", "Also", "Glad", "Happy", "Sorry", "Going", "Trying", "Working", "Using",
    "Looking", "Writing", "Running", "Getting", "Still", "Able", "Done", "Ready", "New", "Back",
}  # fmt: skip
_CTX = r"[^\n]{0,40}?"  # a context word may be up to 40 characters before the value
_PW_WORDS = r"(?:password|passwd|passphrase|pass|pwd|passcode|pin|kennwort|passwort|mot de passe|contraseña)"
_QUOTED = r"(?:`([^`\n]{3,80})`|\"([^\"\n]{3,80})\"|'([^'\n]{3,80})'|([^\s\"'`<>]{4,80}))"
_SECURITY_Q = (
    r"(?:mother'?s maiden name|maiden name|(?:name of )?(?:my |your |the )?first pet(?:'s name)?|"
    r"first (?:school|car|teacher|employer|love)|childhood (?:best )?friend|favou?rite (?:teacher|food|band|book|movie|film)|"
    r"(?:city|town|place) (?:where )?(?:i was|you were|he was|she was) born|born in the (?:city|town) of|"
    r"street (?:i|you) grew up on|security (?:answer|question)(?: answer)?|memorable (?:word|place|name))"
)
_STREET = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|"
    r"Close|Square|Sq|Crescent|Gardens|Grove|Mews|Row|Hill|Park|Parkway|Walk)"
)
_ADDR_TAIL = (
    r"(?:,? (?:Apt|Apartment|Suite|Unit|Flat|Floor)\.? ?\w+)?"
    rf"(?:,? {_WORD}(?: {_WORD}){{0,2}})?"
    r"(?:,? (?:[A-Z]{2} )?\d{5}(?:-\d{4})?|,? [A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})?"
)
# (type, pattern, group holding the sensitive part)
PATTERNS: list[tuple[str, re.Pattern[str], int]] = [
    # --- keys, tokens and credentials -------------------------------------------------------
    (
        "PRIVATE_KEY",
        re.compile(
            r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY((?: BLOCK)?)-----[\s\S]+?-----END \1PRIVATE KEY\2-----"
        ),
        0,
    ),
    (
        "PRIVATE_KEY",
        re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----(?![\s\S]*-----END)(?:\s*[A-Za-z0-9+/=]{8,})*"
        ),
        0,
    ),  # cut off before END
    (
        "CERTIFICATE",
        re.compile(r"-----BEGIN (?![A-Z0-9 ]*PRIVATE)([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----"),
        0,
    ),
    ("URL", re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@]+:[^\s/@]+@[^\s\"'<>]+"), 0),
    (
        "API_KEY",
        re.compile(
            r"\bsk-(?:proj-|ant-(?:api\d+-|admin\d+-)?|svcacct-|live_|test_)?[A-Za-z0-9_\-]{20,}"
        ),
        0,
    ),
    ("API_KEY", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})"), 0),
    ("API_KEY", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b"), 0),
    ("API_KEY", re.compile(r"\bxox[abposrce]-[A-Za-z0-9-]{10,}"), 0),
    ("API_KEY", re.compile(r"\bxapp-\d-[A-Za-z0-9-]{10,}"), 0),
    (
        "URL",
        re.compile(r"https?://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]+"),
        0,
    ),
    ("API_KEY", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"), 0),
    ("API_KEY", re.compile(r"\bya29\.[0-9A-Za-z_\-]{20,}"), 0),
    (
        "API_KEY",
        re.compile(
            r"\b(?:hf_[A-Za-z0-9]{30,}|glpat-[A-Za-z0-9_\-]{20,}|gl(?:dt|rt|ptt|cbt|imt)-[A-Za-z0-9_\-]{20,}|npm_[A-Za-z0-9]{36})"
        ),
        0,
    ),
    (
        "API_KEY",
        re.compile(r"\b(?:AC|SK|AP|PN|MG|CA|CF|IS|RE|TR|US|WS)[0-9a-f]{32}\b"),
        0,
    ),  # Twilio sids
    (
        "API_KEY",
        re.compile(r"\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|\bwhsec_[A-Za-z0-9]{20,}"),
        0,
    ),  # Stripe
    ("API_KEY", re.compile(r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"), 0),  # SendGrid
    (
        "API_KEY",
        re.compile(
            r"\b(?:shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}|dop_v1_[a-f0-9]{64}|pypi-AgE[A-Za-z0-9_-]{50,}|key-[0-9a-f]{32}|[0-9a-f]{32}-us\d{1,2})\b"
        ),
        0,
    ),
    ("API_KEY", re.compile(r"\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b"), 0),  # Telegram bot
    (
        "API_KEY",
        re.compile(r"\b(?:[MN][A-Za-z\d]{23,25}\.[\w-]{6}\.[\w-]{27,38})\b"),
        0,
    ),  # Discord bot
    ("API_KEY", re.compile(r"\bAccountKey=([A-Za-z0-9+/=]{40,})"), 1),  # Azure storage
    ("API_KEY", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), 0),
    (
        "SLACK_ID",
        re.compile(r"(?<![\w-])[UWTCGDB]0(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{7,11}(?![\w-])"),
        0,
    ),
    (
        "API_KEY",
        re.compile(
            r"(?i)\b(?:[a-z_]*api[_-]?key|[a-z_]*secret(?:[_-]?key)?|[a-z_]*token|client[_-]?secret|"
            r"[a-z_]*access[_-]?key(?:[_-]?id)?|auth(?:orization)?|bearer|private[_-]?key|[a-z_]*credentials?)\b[\"']?\s*(?:[:=]|=>)?\s*"
            r"[\"']?(?:Bearer\s+|Basic\s+|token\s+)?([A-Za-z0-9+/_\-.~]{12,}={0,2})"
        ),
        1,
    ),
    (
        "API_KEY~env",
        re.compile(
            r"(?i)\b[A-Z0-9_]*(?:SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?|AUTH|DSN|WEBHOOK)[A-Z0-9_]*[\"']?\s*[:=]\s*[\"']?([^\s\"'#,;]{8,300})"
        ),
        1,
    ),
    (
        "API_KEY~entropy",
        re.compile(
            r"(?<![A-Za-z0-9/+=_-])(?=[A-Za-z0-9/+_-]*[A-Z])(?=[A-Za-z0-9/+_-]*[a-z])(?=[A-Za-z0-9/+_-]*\d)[A-Za-z0-9/+_-]{32,120}={0,2}(?![A-Za-z0-9/+=_-])"
        ),
        0,
    ),
    (
        "USERNAME",
        re.compile(
            r"(?i)\b(?:login|log-in|username|user name|user id|userid|account id|account name|handle)\s*(?:is|was|:|=)\s*[\"'`]?((?=\S*[\d#@!$%&*_.-])[^\s\"'`,;]{4,64}?)[\"'`]?(?=[\s,;.]*(?:\s|$))"
        ),
        1,
    ),
    (
        "FLIGHT",
        re.compile(r"\b(?:[A-Z]{2}|[A-Z]\d|\d[A-Z]) ?\d{1,4}[A-Z]?,? seat \d{1,2}[A-K]\b"),
        0,
    ),
    (
        "FLIGHT",
        re.compile(
            r"(?i)\b(?:flight|flt|flying)\b[^\n]{0,20}?\b((?-i:(?:[A-Z]{2}|[A-Z]\d|\d[A-Z]) ?\d{1,4}))\b"
        ),
        1,
    ),
    ("FLIGHT", re.compile(r"(?i)\bseat (\d{1,2}[A-K])\b"), 1),
    (
        "PNR",
        re.compile(
            r"(?i)\b(?:pnr|booking (?:ref(?:erence)?|code|number)|confirmation (?:code|number)|reservation (?:code|number)|e-?ticket(?: number)?)\b[^\n]{0,20}?\b((?-i:(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{6}|\d{13}))\b"
        ),
        1,
    ),
    (
        "API_KEY",
        re.compile(
            r"[?&](?:token|key|api_key|apikey|access_token|sig|signature|secret|auth|code)=([^&\s\"']{8,})",
            re.I,
        ),
        1,
    ),
    (
        "PASSWORD",
        re.compile(
            rf"(?i)\b(?:{_PW_WORDS}|pass|pin)\b[\"']?(?:\s*[:=]\s*|\s+(?:is|was|set to|changed to|reset to)\s*[:=]?\s*){_QUOTED}"
        ),
        0,
    ),
    (
        "PASSWORD~bare",
        re.compile(rf"(?i)\b{_PW_WORDS}\b\s+(?=\S*[\d!#$%&*@^~?+=])([^\s\"'`<>]{{4,80}})"),
        1,
    ),
    (
        "PASSWORD",
        re.compile(
            r"(?i)\b(?:mysql|mysqldump|mariadb|sshpass)\b[^\n]*?\s-p\s?['\"]?([^\s'\"]{4,64})|(?<!\S)--password[= ]['\"]?([^\s'\"]{4,64})"
        ),
        0,
    ),
    (
        "PASSWORD",
        re.compile(
            r"(?i)\b(?:[A-Z0-9_]*(?:PASSWORD|PASSWD|_PASS|_PWD|SECRET))\s*[:=]\s*[\"']?([^\s\"'#]{3,80})"
        ),
        1,
    ),
    (
        "SECURITY_ANSWER",
        re.compile(
            rf"(?i)\b{_SECURITY_Q}\s*(?:is|was|:|=|-|—)\s*(?:called\s+)?[\"'`]?((?-i:[^\W\d_][\w'’-]*(?: [A-Z][\w'’-]*){{0,2}}))"
        ),
        1,
    ),
    # --- crypto addresses ---------------------------------------------------------------------
    ("SS58_ADDRESS", re.compile(r"(?<![A-Za-z0-9])[1-9A-HJ-NP-Za-km-z]{46,50}(?![A-Za-z0-9])"), 0),
    (
        "BTC_ADDRESS",
        re.compile(r"(?<![A-Za-z0-9])[13][1-9A-HJ-NP-Za-km-z]{25,34}(?![A-Za-z0-9])"),
        0,
    ),
    (
        "BTC_ADDRESS",
        re.compile(r"(?<![A-Za-z0-9])(?:bc|tb)1[02-9ac-hj-np-z]{11,71}(?![A-Za-z0-9])", re.I),
        0,
    ),
    ("ETH_ADDRESS", re.compile(r"\b0x[0-9a-fA-F]{40}\b"), 0),
    # --- contact ------------------------------------------------------------------------------
    ("EMAIL", re.compile(r"(?<![\w.+-])[\w.%+-]+@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}\b"), 0),
    (
        "EMAIL",
        re.compile(
            r"(?i)\b[\w.%+-]+\s*(?:\[at\]|\(at\)| at )\s*[\w-]+\s*(?:\[dot\]|\(dot\)| dot )\s*[a-z]{2,}\b"
        ),
        0,
    ),
    (
        "LOGIN",
        re.compile(
            r"(?<![\w.+/@-])[a-z_][a-z0-9_.-]{0,31}@(?!v?\d+(?:\.\d+)*(?![\w-])|(?:latest|main|master|next|beta|alpha|stable|canary|edge|dev|head|lts)(?![\w.-]))(?:\d{1,3}(?:\.\d{1,3}){3}|[A-Za-z0-9-]+(?:\.(?:local|lan|internal|corp|home|intranet|localdomain))?)(?![\w.@/-])"
        ),
        0,
    ),
    (
        "PROFILE_URL",
        re.compile(
            r"(?i)(?:https?://)?(?:[a-z]{2,3}\.)?(?:linkedin\.com/(?:in|pub|company)|github\.com|gitlab\.com|twitter\.com|x\.com|facebook\.com|fb\.com|instagram\.com|tiktok\.com/@?|medium\.com/@|t\.me|keybase\.io|mastodon\.social/@|bsky\.app/profile|huggingface\.co|stackoverflow\.com/users/\d+|youtube\.com/(?:@|c/|user/))/?@?[\w.%-]{2,}(?:/[\w.%-]+)*/?"
        ),
        0,
    ),
    (
        "HOST",
        re.compile(
            r"(?i)\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:internal|local|lan|corp|home|intranet|localdomain)\b"
        ),
        0,
    ),
    ("IBAN", re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"), 0),
    ("CREDIT_CARD", re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])"), 0),
    (
        "PHONE",
        re.compile(
            r"(?<![\w.+-])(?<!\d )(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]\d{3,4}(?![\w-])(?! \d)"
        ),
        0,
    ),
    (
        "PHONE",
        re.compile(
            r"(?<![\w+.-])0\d{4} ?\d{6}(?![\w-])|(?<![\w+.-])0\d{2,3} \d{3,4} \d{4}(?![\w-])"
        ),
        0,
    ),
    ("PHONE", re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,5}\)?){2,5}(?![\w-])"), 0),
    (
        "PHONE",
        re.compile(
            r"(?i)\b(?:phone|tel|telephone|mobile|mob|cell|call|whatsapp|sms|fax|ring|text me)\b[^\d\n+]{0,12}(\+?\d[\d ().-]{6,16}\d)"
        ),
        1,
    ),
    ("IP_ADDRESS", re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])"), 0),
    (
        "IP_ADDRESS",
        re.compile(r"(?<![\w:.])(?=[0-9a-fA-F:]*:[0-9a-fA-F:]*:)[0-9a-fA-F:]{3,39}(?![\w:])"),
        0,
    ),
    ("MAC_ADDRESS", re.compile(r"\b[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}\b"), 0),
    # --- national, tax, travel and health documents -------------------------------------------
    ("SSN", re.compile(r"\b\d{3}-\d{2}-\d{4}\b"), 0),
    (
        "SSN",
        re.compile(
            rf"(?i)\b(?:ssn|social security(?: number| no\.?)?){_CTX}\b(\d{{3}} ?\d{{2}} ?\d{{4}})\b"
        ),
        1,
    ),
    (
        "NATIONAL_ID",
        re.compile(r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"),
        0,
    ),  # UK NINO
    ("NATIONAL_ID", re.compile(r"\b[A-Z]{3}[ABCFGHLJPTK][A-Z]\d{4}[A-Z]\b"), 0),  # India PAN
    ("NATIONAL_ID", re.compile(r"\b[2-9]\d{3} \d{4} \d{4}\b"), 0),  # India Aadhaar (Verhoeff)
    ("NATIONAL_ID", re.compile(r"\b[XYZ]?-?\d{7,8}-?[A-Z]\b"), 0),  # Spain DNI / NIE
    (
        "NATIONAL_ID",
        re.compile(
            r"\b[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]\b",
            re.I,
        ),
        0,
    ),  # IT codice fiscale
    (
        "NATIONAL_ID",
        re.compile(r"\b[12] ?\d{2} ?\d{2} ?(?:2[AB]|\d{2}) ?\d{3} ?\d{3} ?\d{2}\b"),
        0,
    ),  # FR NIR
    (
        "NATIONAL_ID~bsn",
        re.compile(
            rf"(?i)\b(?:bsn|burgerservicenummer|sofi(?:nummer)?){_CTX}\b(\d{{4}}[ .]?\d{{2}}[ .]?\d{{3}}|\d{{9}})\b"
        ),
        1,
    ),
    (
        "NATIONAL_ID~steuer",
        re.compile(
            rf"(?i)\b(?:steuer-?id(?:entifikationsnummer)?|steuernummer|idnr|tax id|tin){_CTX}\b(\d{{2}} ?\d{{3}} ?\d{{3}} ?\d{{3}})\b"
        ),
        1,
    ),
    (
        "NATIONAL_ID~ctx",
        re.compile(
            rf"(?i)\b(?:aadhaar|personalausweis|ausweis(?:nummer)?|id card|identity card|carte d'identité|cni|dni|nie|national id|national identity|citizen id|codice fiscale|tessera|cpf|curp|nric|sin){_CTX}\b((?-i:[A-Z0-9][A-Z0-9 .-]{{5,16}}[A-Z0-9]))\b"
        ),
        1,
    ),
    (
        "PASSPORT",
        re.compile(
            rf"(?i)\b(?:passport|reisepass|passeport|pasaporte|passaporto|paspoort){_CTX}\b((?-i:(?=[A-Z0-9]*\d)[A-Z0-9]{{6,10}}))\b"
        ),
        1,
    ),
    (
        "PASSPORT",
        re.compile(
            r"\bP[<A-Z][A-Z<]{3}[A-Z<]{39}\b|\b[A-Z0-9<]{9}\d[A-Z<]{3}\d{6}\d[MFX<]\d{6}\d[A-Z0-9<]{14}\d\d\b"
        ),
        0,
    ),  # MRZ
    ("HEALTH_ID", re.compile(rf"(?i)\b(?:nhs|chi){_CTX}\b(\d{{3}}[ -]?\d{{3}}[ -]?\d{{4}})\b"), 1),
    (
        "HEALTH_ID",
        re.compile(
            r"\b[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d-?[AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d-?[AC-HJKMNP-RT-Y]{2}\d{2}\b"
        ),
        0,
    ),  # US Medicare MBI
    (
        "HEALTH_ID",
        re.compile(
            rf"(?i)\b(?:ehic|ghic|european health insurance card|health insurance|insurance (?:number|no|id)|policy (?:number|no)|member(?:ship)? (?:number|no|id)|medicare|medicaid|kvnr|versichertennummer|krankenversicherung|carte vitale|tessera sanitaria|tarjeta sanitaria){_CTX}\b((?-i:(?=[A-Z0-9 -]*\d)[A-Z0-9][A-Z0-9 -]{{5,22}}[A-Z0-9]))\b"
        ),
        1,
    ),
    (
        "DATE_OF_BIRTH",
        re.compile(
            r"(?i)\b(?:born(?: on)?|date of birth|d\.?o\.?b\.?|birth ?date|birthday|geboren(?: am)?|né(?:e)? le|fecha de nacimiento)\b\s*[:=-]?\s*((?:\d{1,2}[./-]\d{1,2}[./-]\d{2,4})|(?:\d{4}-\d{2}-\d{2})|(?:\d{1,2}(?:st|nd|rd|th)? (?:of )?[A-Z][a-z]+,? \d{4})|(?:[A-Z][a-z]+ \d{1,2}(?:st|nd|rd|th)?,? \d{4}))"
        ),
        1,
    ),
    # --- places -------------------------------------------------------------------------------
    ("VEHICLE_PLATE", re.compile(r"\b[A-Z]{2}\d{2} ?[A-Z]{3}\b"), 0),  # UK current
    ("VEHICLE_PLATE", re.compile(r"\b[A-Z]{2}-\d{3}-[A-Z]{2}\b"), 0),  # FR SIV
    ("VEHICLE_PLATE", re.compile(r"\b[A-ZÄÖÜ]{1,3}-[A-Z]{1,2} \d{1,4}[EH]?\b"), 0),  # DE
    (
        "VEHICLE_PLATE",
        re.compile(
            rf"(?i)\b(?:plate|number plate|license plate|licence plate|registration(?: number| plate)?|reg(?: no\.?| number)?|kennzeichen|immatriculation|matrícula|targa|kenteken|tag){_CTX}\b((?-i:(?=[A-Z0-9 -]*\d)(?=[A-Z0-9 -]*[A-Z])[A-Z0-9ÄÖÜ]{{1,8}}(?:[ -][A-Z0-9ÄÖÜ]{{1,4}}){{0,3}}))\b"
        ),
        1,
    ),
    (
        "POSTCODE",
        re.compile(r"\b(?:[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2}|GIR ?0AA)\b"),
        0,
    ),  # UK
    ("POSTCODE", re.compile(rf"\b[1-9]\d{{3}} ?[A-Z]{{2}}(?= {_WORD})"), 0),  # NL, before a city
    (
        "ADDRESS",
        re.compile(rf"\b\d{{1,5}}[A-Za-z]?,? (?:{_WORD} ){{1,3}}{_STREET}\b\.?{_ADDR_TAIL}"),
        0,
    ),
    (
        "ADDRESS",
        re.compile(
            rf"\b(?:{_WORD}[ -])?{_UP}{_LOW}*(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|gracht|straat|laan|plein|vej|gade|gatan|vägen|veien|gata)(?: \d{{1,4}}[a-z]?)\b(?:, ?(?:D-)?\d{{4,5}}(?: [A-Z]{{2}})? {_WORD})?"
        ),
        0,
    ),
    (
        "ADDRESS",
        re.compile(
            rf"\b\d{{1,4}}(?:bis|ter)?,? (?i:rue|avenue|boulevard|bd|place|chemin|allée|impasse|quai|via|viale|piazza|calle|avenida|plaza|paseo|rua|travessa) (?:(?:de|du|des|la|le|del|della|di|da|dos|das|l')[ ']?)*{_WORD}(?: {_WORD}){{0,2}}(?:, ?\d{{5}} {_WORD})?"
        ),
        0,
    ),
    (
        "ADDRESS",
        re.compile(
            rf"(?i)\b(?:rue|via|calle|avenida|rua|piazza|plaza) (?:(?:de|du|des|la|le|del|della|di|da|dos|das|l')[ ']?)*(?-i:{_WORD})(?: (?-i:{_WORD})){{0,2}},? \d{{1,4}}\b(?:, ?\d{{4,5}} (?-i:{_WORD}))?"
        ),
        0,
    ),
    # --- names with a cue ---------------------------------------------------------------------
    (
        "PERSON",
        re.compile(
            rf"\b(?:Hi|Hello|Hey|Dear|Morning|Greetings|Hiya|Howdy|Bonjour|Hallo|Hola|Ciao|Olá|Hej|Moin)[ \t,]+({_NAME})\b"
        ),
        1,
    ),
    (
        "PERSON",
        re.compile(
            rf"\b(?:Thanks|Thank you|Cheers|Regards|Best|Best regards|Kind regards|Warm regards|Sincerely|Yours|Ta|Thx|Love|Danke|Merci|Gracias|Grazie|Obrigado)[,!]?\s*\n?\s*({_NAME})\b"
        ),
        1,
    ),
    ("PERSON", re.compile(rf"(?m)^\s*(?:--|—|-|–)\s*({_NAME})\s*$"), 1),
    (
        "PERSON",
        re.compile(
            rf"\b(?:[Mm]y name is|[Mm]y name's|I am|I'm|[Ss]igned|[Cc]c:?|[Ff]rom:|[Tt]o:|[Aa]uthor:|[Oo]wner:|[Cc]ontact:|[Nn]ame:|[Aa]ssignee:|[Rr]eviewer:|[Cc]alled|[Nn]amed)\s+({_NAME})\b(?!\s+(?:to|at|for|in|on|with)\b)"
        ),
        1,
    ),
    (
        "PERSON",
        re.compile(
            rf"\b(?:Mr|Mrs|Ms|Mx|Dr|Prof|Sir|Dame|Herr|Frau|Mme|Mlle|M\.|Sr|Sra|Dott)\.? ({_NAME})\b"
        ),
        1,
    ),
    (
        "PERSON",
        re.compile(
            rf"\b(?:[Aa]sk|[Tt]ell|[Pp]ing|[Cc]all|[Ee]mail|[Mm]essage|[Cc]ontact|[Ii]nvite|[Mm]y (?:colleague|manager|boss|client|customer|friend|wife|husband|partner|son|daughter|mum|mom|dad|brother|sister|landlord|tenant|doctor|teacher|neighbour|neighbor|lead|coworker|co-worker)|[Cc]olleague|[Cc]ustomer|[Cc]lient|[Pp]atient|[Ee]mployee|[Uu]ser)[ \t]+({_NAME})(?=['’]s\b|\b)"
        ),
        1,
    ),
    (
        "PERSON~mention",
        re.compile(rf"(?<=\S[ \t])@((?:{_WORD}|[a-z][a-z0-9_.-]{{2,30}}))(?![\w.@(-])"),
        1,
    ),
]


def _public_ip(text: str) -> bool:
    """Loopback and unspecified addresses are not personal data."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return not (address.is_loopback or address.is_unspecified)


def _person(value: str) -> bool:
    words = value.split()
    return words[0] not in _NOT_NAMES and words[-1] not in _NOT_NAMES


def _national(value: str) -> bool:
    compact = re.sub(r"[\s.-]", "", value)
    if re.fullmatch(r"[A-Z]{2}\d{6}[A-D]", compact):
        return checks.nino_ok(compact)
    if re.fullmatch(r"[A-Z]{5}\d{4}[A-Z]", compact):
        return checks.pan_ok(compact)
    if re.fullmatch(r"\d{12}", compact):
        return checks.aadhaar_ok(compact)
    if re.fullmatch(r"[XYZ]?\d{7,8}[A-Z]", compact):
        return checks.dni_ok(compact)
    if len(compact) == 16 and compact[:6].isalpha():
        return checks.codice_fiscale_ok(compact)
    if re.fullmatch(r"[12]\d{4}(?:2A|2B|\d{2})\d{8}", compact):
        return checks.insee_ok(compact)
    if re.fullmatch(r"\d{9}", compact):
        return checks.bsn_ok(compact)
    if re.fullmatch(r"\d{11}", compact):
        return checks.steuer_id_ok(compact)
    return any(ch.isdigit() for ch in compact) and len(compact) >= 6  # context-keyed id


_CODE_VALUE = re.compile(
    r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?:[(\[].*)?|[A-Za-z_]\w*[(\[].*|[a-z]+(?:_[a-z]+)+|[A-Z]+(?:_[A-Z]+)+|\$\{?\w+\}?|%\(?\w*\)?s|\{.*\}|<.*>|\*+|x{3,}|\.\.\.",
)


def _high_entropy(value: str) -> bool:
    """A random-looking token (AWS secret keys, vendor tokens without a known prefix): 4+ bits
    of entropy per character and not a path or an identifier made of words."""
    from mycel_subnet.privacy.vocabulary import is_vocabulary

    if value.count("/") > 2 or value.count("_") > 3 or value.count("-") > 3:
        return False
    words = re.findall(r"[A-Z]?[a-z]{3,}", value)
    if sum(len(w) for w in words if is_vocabulary(w)) > len(value) / 2:
        return False
    return checks.entropy(value) >= 4.0


def _national_in_context(value: str) -> bool:
    """After a context word ("ID card", "DNI"): letter+digit shapes that have a check letter
    must pass it; other shapes need only a digit and six characters."""
    compact = re.sub(r"[\s.-]", "", value)
    if re.fullmatch(
        r"[A-Z]{2}\d{6}[A-D]|[A-Z]{5}\d{4}[A-Z]|[XYZ]?\d{7,8}[A-Z]|[A-Z]{6}\w{10}", compact
    ):
        return _national(compact)
    return any(ch.isdigit() for ch in compact) and len(compact) >= 6


def _password(value: str) -> bool:
    from mycel_subnet.privacy.vocabulary import is_common_word

    inner = value.strip("`\"' ")
    if len(inner) < 3 or inner.startswith("<") or inner.startswith("{"):
        return False
    if _CODE_VALUE.fullmatch(inner):
        return False
    if any(not ch.isalpha() for ch in inner):
        return True
    return not is_common_word(inner.lower()) or inner != inner.lower()


def _phone(value: str) -> bool:
    number = checks.digits(value)
    if not 7 <= len(number) <= 15:
        return False
    date = re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip())
    version = re.fullmatch(r"[\d.]+", value) and value.count(".") >= 2
    return not (date or version)  # a date or a version string is no phone


_VALID: dict[str, Callable[[str], bool]] = {
    "CREDIT_CARD": checks.card_ok,
    "IBAN": iban_ok,
    "IP_ADDRESS": _public_ip,
    "PERSON": _person,
    "PHONE": _phone,
    "SSN": checks.ssn_ok,
    "NATIONAL_ID": _national,
    "SS58_ADDRESS": checks.ss58_ok,
    "BTC_ADDRESS": lambda v: checks.base58check_ok(v) if v[0] in "13" else checks.bech32_ok(v),
    "PASSWORD": _password,
    "PASSWORD~bare": _password,
    "API_KEY~env": lambda v: _password(v) and not v.startswith(("http://localhost", "${", "<")),
    "API_KEY~entropy": lambda v: _high_entropy(v),
    "NATIONAL_ID~bsn": checks.bsn_ok,
    "NATIONAL_ID~steuer": checks.steuer_id_ok,
    "NATIONAL_ID~ctx": lambda v: _national_in_context(v),
    "PERSON~mention": lambda v: v.lower() not in _NOT_MENTIONS,
    "HEALTH_ID": lambda v: (
        checks.nhs_ok(v) if re.fullmatch(r"\d{3}[ -]?\d{3}[ -]?\d{4}", v) else True
    ),
    "POSTCODE": lambda v: v not in {"PR1 0AA"},
    "VEHICLE_PLATE": lambda v: not re.fullmatch(r"[A-Z]+", v.replace(" ", "").replace("-", "")),
}


def _value_span(kind: str, match: re.Match[str], group: int) -> tuple[int, int] | None:
    if kind.startswith("PASSWORD") and group == 0 and match.lastindex:
        for index in range(1, match.re.groups + 1):
            if match.group(index):
                return match.start(index), match.end(index)
        return None
    return match.start(group), match.end(group)


def find_spans(text: str) -> Iterator[Span]:
    """Every regex match that passes its validity check."""
    for kind, pattern, group in PATTERNS:
        for match in pattern.finditer(text):
            span = _value_span(kind, match, group)
            if span is None:
                continue
            value = text[span[0] : span[1]]
            check = _VALID.get(kind)
            if value and (check is None or check(value)):
                yield Span(kind.split("~")[0], span[0], span[1])
    yield from mnemonic_spans(text)
    yield from listed_after_context(text)


_LIST_CONTEXT = [
    (
        "VEHICLE_PLATE",
        re.compile(
            r"(?i)\b(?:plates?|number plates?|licen[cs]e plates?|registrations?|kennzeichen|immatriculations?|kentekens?)\b"
        ),
        re.compile(
            r"(?<![\w-])(?=[A-Z0-9ÄÖÜ -]*\d)(?=[A-Z0-9ÄÖÜ -]*[A-Z])[A-Z0-9ÄÖÜ]{1,4}(?:[ -][A-Z0-9ÄÖÜ]{1,4}){1,3}(?![\w-])"
        ),
    ),
    (
        "PASSPORT",
        re.compile(r"(?i)\b(?:passports?|reisepass|passeport|pasaporte)\b"),
        re.compile(r"(?<![\w-])(?=[A-Z0-9]*\d)[A-Z0-9]{8,9}(?![\w-])"),
    ),
]


def listed_after_context(text: str) -> Iterator[Span]:
    """Every value of a context-keyed kind in the rest of the line after its keyword ("plates
    like 'YL27 XCK', 'K-XY 7367', 'RP-034-J'"), not only the first."""
    for kind, keyword, value in _LIST_CONTEXT:
        for key in keyword.finditer(text):
            line_end = text.find("\n", key.end())
            window_end = min(len(text), key.end() + 240, line_end if line_end >= 0 else len(text))
            for match in value.finditer(text, key.end(), window_end):
                yield Span(kind, match.start(), match.end())


_MNEMONIC_WORD = re.compile(r"[a-z]{3,8}")
_MNEMONIC_GAP = re.compile(r"(?:[\s,;]|\d{1,2}[.):]|\|)*")


def mnemonic_spans(text: str) -> Iterator[Span]:
    """Runs of 12 or more BIP-39 words (lower-case, separated by spaces, commas, newlines or
    "1." numbering), the shape of a wallet seed phrase."""
    from mycel_subnet.privacy.bip39_words import WORD_SET

    run: list[re.Match[str]] = []
    last_end = 0
    for match in _MNEMONIC_WORD.finditer(text):
        boundary = (match.start() == 0 or not text[match.start() - 1].isalpha()) and (
            match.end() == len(text) or not text[match.end()].isalpha()
        )
        gap_ok = bool(run) and _MNEMONIC_GAP.fullmatch(text, last_end, match.start()) is not None
        if not (boundary and match.group(0) in WORD_SET):
            if len(run) >= 12:
                yield Span("MNEMONIC", run[0].start(), run[-1].end())
            run = []
            continue
        if run and not gap_ok:
            if len(run) >= 12:
                yield Span("MNEMONIC", run[0].start(), run[-1].end())
            run = []
        run.append(match)
        last_end = match.end()
    if len(run) >= 12:
        yield Span("MNEMONIC", run[0].start(), run[-1].end())
