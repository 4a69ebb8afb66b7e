"""Private values known by where they sit rather than by their shape: the cells of a CSV column
whose header says "name", "dob" or "pnr", the value of a JSON/YAML/.env key called "email" or
"passport_no", full calendar dates, and password-shaped tokens in prose (letters, digits and a
symbol, such as "Ch@rlotte#1987!")."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from mycel_subnet.privacy.recognisers import Span

# field-name word -> kind (a header or key matches when one of its words is listed)
FIELD_KINDS = {
    "name": "PERSON", "fullname": "PERSON", "firstname": "PERSON", "lastname": "PERSON",
    "surname": "PERSON", "forename": "PERSON", "employee": "PERSON", "customer": "PERSON",
    "patient": "PERSON", "contact": "PERSON", "author": "PERSON", "owner": "PERSON",
    "assignee": "PERSON", "recipient": "PERSON", "sender": "PERSON", "passenger": "PERSON",
    "email": "EMAIL", "mail": "EMAIL", "phone": "PHONE", "mobile": "PHONE", "tel": "PHONE",
    "telephone": "PHONE", "dob": "DATE_OF_BIRTH", "birth": "DATE_OF_BIRTH",
    "birthday": "DATE_OF_BIRTH", "birthdate": "DATE_OF_BIRTH", "ni": "NATIONAL_ID",
    "nino": "NATIONAL_ID", "ssn": "NATIONAL_ID", "nid": "NATIONAL_ID", "pan": "NATIONAL_ID",
    "aadhaar": "NATIONAL_ID", "bsn": "NATIONAL_ID", "dni": "NATIONAL_ID", "nie": "NATIONAL_ID",
    "tin": "NATIONAL_ID", "cpf": "NATIONAL_ID", "nhs": "HEALTH_ID", "mrn": "HEALTH_ID",
    "insurance": "HEALTH_ID", "policy": "HEALTH_ID", "ehic": "HEALTH_ID", "mbi": "HEALTH_ID",
    "passport": "PASSPORT", "address": "ADDRESS", "street": "ADDRESS", "postcode": "POSTCODE",
    "zip": "POSTCODE", "zipcode": "POSTCODE", "postal": "POSTCODE", "iban": "IBAN",
    "account": "ACCOUNT", "sortcode": "ACCOUNT", "card": "CREDIT_CARD", "pnr": "PNR",
    "booking": "PNR", "plate": "VEHICLE_PLATE", "registration": "VEHICLE_PLATE",
    "vrn": "VEHICLE_PLATE", "username": "USERNAME", "user": "USERNAME", "login": "USERNAME",
    "handle": "USERNAME", "ip": "IP_ADDRESS", "password": "PASSWORD", "passwd": "PASSWORD",
    "pwd": "PASSWORD", "secret": "API_KEY", "token": "API_KEY", "seat": "FLIGHT",
    "flight": "FLIGHT",
}  # fmt: skip
# words that make a field non-personal even next to a listed word ("file_name", "user_agent")
_NOT_PERSONAL = frozenset(
    """
    file filename path dir host hostname table column field class function module package
    project repo branch app service model type kind key event agent id count format
    """.split()  # noqa: SIM905
)
_FIELD_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_KEY_VALUE = re.compile(
    r"""["']?([A-Za-z][\w-]{0,40})["']?\s*[:=]\s*(?:"([^"\n]{3,120})"|'([^'\n]{3,120})'|"""
    r"""([^\s,;#"'{}\[\]][^,;#\n"'{}\[\]]{2,120}))"""
)
_DATE = re.compile(
    r"(?<![\d/.-])(?:(\d{1,2})[/.-](\d{1,2})[/.-]((?:19|20)\d{2})|((?:19|20)\d{2})-(\d{2})-(\d{2}))"
    r"(?![\d/.-])"
)
_PASSWORD_SHAPE = re.compile(
    r"(?<![\w@/:.])(?=[^\s`\"']*[A-Za-z])(?=[^\s`\"']*\d)(?=[^\s`\"']*[!#$%&*@^~?])"
    r"[^\s`\"'<>()\[\]{},;]{8,64}(?<![.!?,])"
)


def field_kind(name: str) -> str | None:
    """The kind a field (CSV header, JSON or config key) holds, or None."""
    words = [w.lower() for w in _FIELD_WORDS.findall(name)]
    if not words or any(w in _NOT_PERSONAL for w in words):
        return None
    joined = "".join(words)
    if joined in FIELD_KINDS:
        return FIELD_KINDS[joined]
    for word in words:
        if word in FIELD_KINDS:
            return FIELD_KINDS[word]
    return None


def csv_values(text: str, language: str) -> Iterator[tuple[str, str]]:
    """(value, kind) for every cell of a CSV/TSV column whose header names a private field."""
    delimiter = "\t" if language.lower() == "tsv" else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if len(rows) < 2:
        return
    kinds = [field_kind(cell) for cell in rows[0]]
    if not any(kinds):
        return
    for row in rows[1:]:
        for cell, kind in zip(row, kinds, strict=False):
            if kind and len(cell.strip()) >= 3:
                yield cell.strip(), kind


def keyed_values(text: str) -> Iterator[tuple[str, str]]:
    """(value, kind) for `key: value` / `key = value` / `"key": "value"` with a private key."""
    for match in _KEY_VALUE.finditer(text):
        kind = field_kind(match.group(1))
        value = next((g for g in match.groups()[1:] if g), "").strip()
        if kind and len(value) >= 3 and not value.startswith(("<", "${", "{")):
            yield value, kind


def _valid_date(day: int, month: int) -> bool:
    return 1 <= day <= 31 and 1 <= month <= 12


def date_spans(text: str) -> Iterator[Span]:
    """Full calendar dates (a birth date, an appointment): quasi-identifiers, shared as <DATE>."""
    for match in _DATE.finditer(text):
        d, m, _, _, mm, dd = match.groups()
        if d is not None:
            ok = _valid_date(int(d), int(m)) or _valid_date(int(m), int(d))
        else:
            ok = _valid_date(int(dd), int(mm))
        if ok:
            yield Span("DATE", match.start(), match.end(), "field")


def password_spans(text: str) -> Iterator[Span]:
    """Password-shaped tokens in prose: letters, a digit and a symbol, 8+ characters, not an
    e-mail, URL or path."""
    for match in _PASSWORD_SHAPE.finditer(text):
        value = match.group(0)
        if "://" in value or re.fullmatch(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", value):
            continue
        if value.count("/") >= 2 or re.search(r"[=<>]=|!=|&&|\|\|", value):
            continue
        yield Span("PASSWORD", match.start(), match.end(), "field")
