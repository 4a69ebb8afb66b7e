"""Planted personal data: generated per challenge, detected in miners' answers exactly.

Every value is random (names from large pools, random digits, random key material), so a miner
cannot keep a list of them; detection compares normalised forms of the exact planted values,
plus the privacy package's recognisers for anything that still looks like a secret.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass

FIRST = (
    "Amelia", "Bruno", "Chiara", "Dmitri", "Elena", "Farid", "Greta", "Hiroshi", "Ingrid", "Jonas",
    "Kalani", "Lucia", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Soren", "Tamsin",
    "Ulrich", "Valeria", "Wendell", "Ximena", "Yusuf", "Zofia", "Anouk", "Bastian", "Celeste",
    "Dario", "Esme", "Florian", "Giulia", "Henrik", "Isolde", "Joaquin", "Katarina", "Leandro",
)  # fmt: skip
LAST = (
    "Abernathy", "Bergstrom", "Castellano", "Delacroix", "Eskildsen", "Fairweather", "Galloway",
    "Hallorann", "Iverson", "Jablonski", "Kowalczyk", "Lindqvist", "Montgomery", "Nakamura",
    "Oyelaran", "Pemberton", "Quintero", "Rasmussen", "Sandoval", "Thorvaldsen", "Underhill",
    "Vasquez", "Whitlock", "Yamamoto", "Zielinski", "Achterberg", "Blackwood", "Cavendish",
    "Drummond", "Ellsworth", "Fitzgerald", "Gallagher", "Hargreaves", "Ingersoll", "Kincaid",
)  # fmt: skip
MAIL_DOMAINS = ("example.com", "example.org", "mail.test", "corp.example", "inbox.example.net")
IBAN_COUNTRIES = (("DE", 18), ("FR", 23), ("NL", 14), ("ES", 20), ("IT", 23), ("GB", 18))


@dataclass(frozen=True)
class PlantedPii:
    """One planted value: its kind, its text as written, and the forms that count as a leak."""

    kind: str
    value: str
    forms: tuple[str, ...]


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _compact(text: str) -> str:
    return re.sub(r"\s", "", text).lower()


def _iban_check(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    number = int("".join(str(int(c, 36)) for c in rearranged))
    return f"{98 - number % 97:02d}"


def person(rng: random.Random) -> PlantedPii:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return PlantedPii("PERSON", f"{first} {last}", (f"{first} {last}".lower(), last.lower()))


def email(rng: random.Random, name: PlantedPii | None = None) -> PlantedPii:
    local = (
        name.value.lower().replace(" ", ".")
        if name
        else "".join(rng.choice(string.ascii_lowercase) for _ in range(7))
    )
    local += str(rng.randint(10, 999))
    value = f"{local}@{rng.choice(MAIL_DOMAINS)}"
    return PlantedPii("EMAIL", value, (value.lower(), local.lower()))


def phone(rng: random.Random) -> PlantedPii:
    value = f"+{rng.randint(1, 49)} {rng.randint(200, 989)} {rng.randint(100, 999)} "
    value += f"{rng.randint(1000, 9999)}"
    return PlantedPii("PHONE", value, (_digits(value),))


def api_key(rng: random.Random) -> PlantedPii:
    body = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(32))
    value = rng.choice(("sk-live_", "sk-proj-", "ghp_")) + body
    return PlantedPii("API_KEY", value, (value.lower(), body.lower()))


def iban(rng: random.Random) -> PlantedPii:
    country, length = rng.choice(IBAN_COUNTRIES)
    if country == "GB":
        bban = "".join(rng.choice(string.ascii_uppercase) for _ in range(4))
        bban += "".join(rng.choice(string.digits) for _ in range(length - 4))
    else:
        bban = "".join(rng.choice(string.digits) for _ in range(length))
    raw = country + _iban_check(country, bban) + bban
    value = " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))
    return PlantedPii("IBAN", value, (_compact(raw),))


MAKERS = {"PERSON": person, "EMAIL": email, "PHONE": phone, "API_KEY": api_key, "IBAN": iban}
# Recogniser types that mean "this still contains personal data or a secret" in a pattern.
LEAK_TYPES = frozenset({"EMAIL", "PHONE", "API_KEY", "IBAN", "CREDIT_CARD", "PRIVATE_KEY", "SSN"})


def make(kind: str, rng: random.Random) -> PlantedPii:
    return MAKERS[kind](rng)


def leaked(text: str, planted: list[PlantedPii]) -> list[str]:
    """Kinds of planted values that survive in `text` (empty list: nothing leaked)."""
    lowered = text.lower()
    compact = _compact(text)
    digits = _digits(text)
    found = []
    for item in planted:
        hit = False
        for form in item.forms:
            if item.kind == "PHONE":
                hit = len(form) >= 7 and form in digits
            elif item.kind == "IBAN":
                hit = form in compact
            elif item.kind == "PERSON" and " " not in form:
                hit = re.search(rf"\b{re.escape(form)}\b", lowered) is not None
            else:
                hit = form in lowered
            if hit:
                break
        if hit:
            found.append(item.kind)
    return found


def recognised(text: str) -> list[str]:
    """Types of personal data or secrets the privacy recognisers still find in `text`."""
    from mycel_subnet.privacy import remove_pii

    return sorted({f.type for f in remove_pii(text, use_presidio=False).findings} & LEAK_TYPES)
