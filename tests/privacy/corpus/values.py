"""Seeded generators of private values, with valid check digits where the format has them.

Every value a log plants goes through a `Vault`, which records it as a (kind, value) item, so the
corpus can never forget to judge something it planted. Values are deterministic per log id.
"""

from __future__ import annotations

import base64
import hashlib
import random
import string
from dataclasses import dataclass, field

import base58

UPPER, LOWER, DIGITS = string.ascii_uppercase, string.ascii_lowercase, string.digits
ALNUM = UPPER + LOWER + DIGITS
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"
HEX = "0123456789abcdef"

# Kinds whose every 8-character run is private (keys, tokens, secrets, identifiers).
PARTIAL_KINDS = frozenset(
    """AWS_ACCESS_KEY AWS_SECRET_KEY GITHUB_TOKEN GITLAB_TOKEN SLACK_TOKEN TWILIO_SID STRIPE_KEY
    OPENAI_KEY ANTHROPIC_KEY GOOGLE_API_KEY HF_TOKEN JWT PRIVATE_KEY SS58_ADDRESS BTC_ADDRESS
    ETH_ADDRESS PASSWORD IBAN CARD UK_NINO IN_PAN IN_AADHAAR US_SSN ES_DNI IT_FISCAL_CODE NL_BSN
    PASSPORT NHS_NUMBER MEDICARE_MBI DRIVING_LICENCE PNR API_SECRET""".split()  # noqa: SIM905
)

# Public vendor prefixes: a run made only of these is no leak, so partial matching skips them.
PUBLIC_PREFIXES = (
    "sk-ant-api03-",
    "github_pat_",
    "sk_live_",
    "sk-proj-",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "ghp_",
    "AKIA",
    "AIza",
    "hf_",
    "0x",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",  # the standard HS256 JWT header
)

_BIP39: list[str] | None = None


def bip39_words() -> list[str]:
    """The BIP-39 English word list (shipped inside eth_account)."""
    global _BIP39
    if _BIP39 is None:
        from importlib.resources import files

        text = files("eth_account.hdaccount").joinpath("wordlist/english.txt").read_text()
        _BIP39 = text.split()
    return _BIP39


def luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return str((10 - total % 10) % 10)


def luhn_ok(number: str) -> bool:
    digits = [c for c in number if c.isdigit()]
    return luhn_digit("".join(digits[:-1])) == digits[-1]


def iban_check(country: str, bban: str) -> str:
    moved = bban + country + "00"
    numeric = "".join(str(int(c, 36)) for c in moved)
    return f"{98 - int(numeric) % 97:02d}"


def iban_ok(iban: str) -> bool:
    s = iban.replace(" ", "")
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


_VERHOEFF_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]
_VERHOEFF_P = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
]
_VERHOEFF_INV = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9]


def verhoeff_digit(body: str) -> str:
    c = 0
    for i, ch in enumerate(reversed(body)):
        c = _VERHOEFF_D[c][_VERHOEFF_P[(i + 1) % 8][int(ch)]]
    return str(_VERHOEFF_INV[c])


def verhoeff_ok(number: str) -> bool:
    c = 0
    for i, ch in enumerate(reversed(number)):
        c = _VERHOEFF_D[c][_VERHOEFF_P[i % 8][int(ch)]]
    return c == 0


def nhs_ok(number: str) -> bool:
    d = [int(c) for c in number if c.isdigit()]
    check = 11 - sum(x * w for x, w in zip(d[:9], range(10, 1, -1), strict=True)) % 11
    return len(d) == 10 and (0 if check == 11 else check) == d[9]


def bsn_ok(number: str) -> bool:
    d = [int(c) for c in number]
    return (sum(x * w for x, w in zip(d[:8], range(9, 1, -1), strict=True)) - d[8]) % 11 == 0


# The odd-position values of the codice fiscale: digits 0-9, then letters A-Z.
_CF_ODD_VALUES = (1, 0, 5, 7, 9, 13, 15, 17, 19, 21)
_CF_ODD_VALUES += (1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10)
_CF_ODD_VALUES += (22, 25, 24, 23)
_CF_ODD = dict(zip(DIGITS + UPPER, _CF_ODD_VALUES, strict=True))


def fiscal_code_char(body: str) -> str:
    total = 0
    for i, ch in enumerate(body):
        if i % 2 == 0:
            total += _CF_ODD[ch]
        else:
            total += int(ch) if ch.isdigit() else ord(ch) - 65
    return UPPER[total % 26]


DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


@dataclass
class Vault:
    """Draws values for one log and records each as a planted (kind, value) item."""

    seed: str
    items: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(hashlib.sha256(self.seed.encode()).digest())

    # -- bookkeeping ------------------------------------------------------------------------

    def plant(self, kind: str, value: str) -> str:
        if (kind, value) not in self.items:
            self.items.append((kind, value))
        return value

    def _chars(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def _digits(self, n: int) -> str:
        return self._chars(DIGITS, n)

    def pick(self, options):
        return self.rng.choice(list(options))

    # -- people and places ------------------------------------------------------------------

    def person(self, name: str) -> str:
        """A hand-picked name (the corpus chooses them for their spelling), recorded."""
        return self.plant("PERSON", name)

    def email(self, local: str, domain: str) -> str:
        return self.plant("EMAIL", f"{local}@{domain}")

    def phone(self, country: str) -> str:
        r = self._digits
        formats = {
            "uk": lambda: f"+44 7700 9{r(5)}",
            "uk_local": lambda: f"07700 9{r(5)}",
            "de": lambda: f"+49 151 {r(4)} {r(4)}",
            "pt": lambda: f"+351 912 {r(3)} {r(3)}",
            "pl": lambda: f"+48 601 {r(3)} {r(3)}",
            "us": lambda: f"(415) 555-{r(4)}",
            "in": lambda: f"+91 98{r(3)} {r(5)}",
            "vn": lambda: f"+84 90 {r(3)} {r(4)}",
            "tr": lambda: f"+90 532 {r(3)} {r(2)} {r(2)}",
            "nl": lambda: f"+31 6 {r(4)} {r(4)}",
            "se": lambda: f"+46 70 {r(3)} {r(2)} {r(2)}",
            "es": lambda: f"+34 612 {r(3)} {r(3)}",
        }
        return self.plant("PHONE", formats[country]())

    def postcode(self) -> str:
        area = self.pick(["CF", "SW", "EH", "M", "LS", "BS", "NE", "SA", "LL", "G", "OX", "N"])
        inward = self._chars("ABDEFGHJLNPQRSTUWXYZ", 2)
        return self.plant(
            "POSTCODE", f"{area}{self.rng.randint(1, 19)} {self.rng.randint(1, 9)}{inward}"
        )

    def address(self, street: str) -> str:
        return self.plant("ADDRESS", f"{self.rng.randint(2, 198)} {street}")

    def plate(self, country: str = "uk") -> str:
        if country == "de":
            value = f"{self.pick(['M', 'HH', 'B', 'K'])}-{self._chars(UPPER, 2)} {self._digits(4)}"
        elif country == "nl":
            value = f"{self._chars(UPPER, 2)}-{self._digits(3)}-{self._chars(UPPER, 1)}"
        else:
            value = (
                f"{self._chars('ABCDEFGHKLMNPRSVWY', 2)}{self._digits(2)} {self._chars(UPPER, 3)}"
            )
        return self.plant("VEHICLE_PLATE", value)

    def dob(self, style: str = "uk") -> str:
        y, m, d = self.rng.randint(1952, 2004), self.rng.randint(1, 12), self.rng.randint(1, 28)
        text = {"uk": f"{d:02d}/{m:02d}/{y}", "iso": f"{y}-{m:02d}-{d:02d}", "us": f"{m}/{d}/{y}"}
        return self.plant("DATE_OF_BIRTH", text[style])

    def ip(self, private: bool = True) -> str:
        a = (
            f"10.{self.rng.randint(2, 250)}"
            if private
            else f"{self.rng.randint(81, 213)}.{self.rng.randint(2, 250)}"
        )
        return self.plant(
            "IP_ADDRESS", f"{a}.{self.rng.randint(2, 250)}.{self.rng.randint(2, 250)}"
        )

    def host(self, name: str) -> str:
        return self.plant("HOST", name)

    def login(self, user: str, host: str) -> str:
        return self.plant("LOGIN", f"{user}@{host}")

    def profile(self, url: str) -> str:
        return self.plant("PROFILE_URL", url)

    # -- national and health identifiers ------------------------------------------------------

    def nino(self) -> str:
        first = self.pick("ABCEGHJKLMNPRSTWXYZ")
        second = self.pick("ABCEGHJKLMNPRSTWXYZ")
        while first + second in ("GB", "NK", "NT", "TN", "ZZ", "KN", "BG"):
            second = self.pick("ABCEGHJKLMNPRSTWXYZ")
        d = self._digits(6)
        return self.plant(
            "UK_NINO", f"{first}{second} {d[:2]} {d[2:4]} {d[4:]} {self.pick('ABCD')}"
        )

    def pan(self, surname: str) -> str:
        value = f"{self._chars(UPPER, 3)}P{surname[0].upper()}{self._digits(4)}{self.pick(UPPER)}"
        return self.plant("IN_PAN", value)

    def aadhaar(self) -> str:
        body = str(self.rng.randint(2, 9)) + self._digits(10)
        n = body + verhoeff_digit(body)
        return self.plant("IN_AADHAAR", f"{n[:4]} {n[4:8]} {n[8:]}")

    def ssn(self) -> str:
        area = self.rng.randint(101, 665)
        return self.plant(
            "US_SSN", f"{area:03d}-{self.rng.randint(10, 99):02d}-{self.rng.randint(1000, 9999)}"
        )

    def dni(self) -> str:
        n = self.rng.randint(10_000_000, 79_999_999)
        return self.plant("ES_DNI", f"{n}{DNI_LETTERS[n % 23]}")

    def fiscal_code(self) -> str:
        months = "ABCDEHLMPRST"
        body = (
            self._chars("BCDFGHLMNPRSTVZ", 3)
            + self._chars("BCDFGHLMNPRSTVZ", 3)
            + self._digits(2)
            + self.pick(months)
            + f"{self.rng.randint(1, 71):02d}"
            + self.pick(["H501", "F205", "L219", "G273", "D612"])
        )
        return self.plant("IT_FISCAL_CODE", body + fiscal_code_char(body))

    def bsn(self) -> str:
        while True:
            d = [self.rng.randint(1, 9)] + [self.rng.randint(0, 9) for _ in range(7)]
            check = sum(x * w for x, w in zip(d, range(9, 1, -1), strict=True)) % 11
            if check < 10:
                return self.plant("NL_BSN", "".join(map(str, d)) + str(check))

    def passport(self, country: str) -> str:
        value = {
            "uk": lambda: str(self.rng.randint(1, 9)) + self._digits(8),
            "de": lambda: self.pick("CFGHJK") + self._chars("CFGHJKLMNPRTVWXYZ0123456789", 8),
            "in": lambda: self.pick("JKLMNPRZ") + self._digits(7),
            "us": lambda: str(self.rng.randint(5, 6)) + self._digits(8),
            "pl": lambda: self._chars(UPPER, 2) + self._digits(7),
        }[country]()
        return self.plant("PASSPORT", value)

    def nhs(self) -> str:
        while True:
            d = [self.rng.randint(0, 9) for _ in range(9)]
            check = 11 - sum(x * w for x, w in zip(d, range(10, 1, -1), strict=True)) % 11
            check = 0 if check == 11 else check
            if check != 10:
                s = "".join(map(str, d)) + str(check)
                return self.plant("NHS_NUMBER", f"{s[:3]} {s[3:6]} {s[6:]}")

    def mbi(self) -> str:
        letters = "ACDEFGHJKMNPQRTUVWXY"
        an = letters + DIGITS
        c = self.pick
        value = (
            c("123456789")
            + c(letters)
            + c(an)
            + c(DIGITS)
            + c(letters)
            + c(an)
            + c(DIGITS)
            + c(letters)
            + c(letters)
            + c(DIGITS)
            + c(DIGITS)
        )
        return self.plant("MEDICARE_MBI", f"{value[:4]}-{value[4:7]}-{value[7:]}")

    def driving_licence(self, surname: str, initials: str) -> str:
        sur = (surname.upper().replace(" ", "") + "99999")[:5]
        y, m, d = self.rng.randint(55, 99), self.rng.randint(1, 12), self.rng.randint(1, 28)
        given = (initials.upper() + "9")[:2]
        value = f"{sur}{y // 10}{m:02d}{d:02d}{y % 10}{given}9{self._chars(UPPER, 2)}"
        return self.plant("DRIVING_LICENCE", value)

    def medical(self, text: str) -> str:
        return self.plant("MEDICAL", text)

    # -- money --------------------------------------------------------------------------------

    def iban(self, country: str) -> str:
        bban = {
            "GB": lambda: self._chars(UPPER, 4) + self._digits(14),
            "DE": lambda: self._digits(18),
            "NL": lambda: self._chars(UPPER, 4) + self._digits(10),
            "ES": lambda: self._digits(20),
            "PL": lambda: self._digits(24),
            "PT": lambda: self._digits(21),
        }[country]()
        raw = country + iban_check(country, bban) + bban
        return self.plant("IBAN", " ".join(raw[i : i + 4] for i in range(0, len(raw), 4)))

    def card(self, brand: str = "visa", grouped: bool = True) -> str:
        if brand == "amex":
            body = self.pick(["34", "37"]) + self._digits(12)
            n = body + luhn_digit(body)
            value = f"{n[:4]} {n[4:10]} {n[10:]}" if grouped else n
        else:
            prefix = "4" if brand == "visa" else str(self.rng.randint(51, 55))
            body = prefix + self._digits(15 - len(prefix))
            n = body + luhn_digit(body)
            value = " ".join(n[i : i + 4] for i in range(0, 16, 4)) if grouped else n
        return self.plant("CARD", value)

    # -- keys and tokens ----------------------------------------------------------------------

    def aws(self) -> tuple[str, str]:
        access = self.plant("AWS_ACCESS_KEY", "AKIA" + self._chars(UPPER + "234567", 16))
        return access, self.plant("AWS_SECRET_KEY", self._chars(B64, 40))

    def github(self) -> str:
        return self.plant("GITHUB_TOKEN", "ghp_" + self._chars(ALNUM, 36))

    def gitlab(self) -> str:
        return self.plant("GITLAB_TOKEN", "glpat-" + self._chars(URLSAFE, 20))

    def slack(self) -> str:
        value = f"xoxb-{self._digits(12)}-{self._digits(13)}-{self._chars(ALNUM, 24)}"
        return self.plant("SLACK_TOKEN", value)

    def twilio(self) -> tuple[str, str]:
        sid = self.plant("TWILIO_SID", "AC" + self._chars(HEX, 32))
        return sid, self.plant("TWILIO_SID", "SK" + self._chars(HEX, 32))

    def stripe(self) -> str:
        return self.plant("STRIPE_KEY", "sk_live_51" + self._chars(ALNUM, 30))

    def openai(self) -> str:
        return self.plant("OPENAI_KEY", "sk-proj-" + self._chars(URLSAFE, 48))

    def anthropic(self) -> str:
        return self.plant("ANTHROPIC_KEY", "sk-ant-api03-" + self._chars(URLSAFE, 93) + "AA")

    def google(self) -> str:
        return self.plant("GOOGLE_API_KEY", "AIza" + self._chars(URLSAFE, 35))

    def hf(self) -> str:
        return self.plant("HF_TOKEN", "hf_" + self._chars(UPPER + LOWER, 34))

    def secret(self, n: int = 32) -> str:
        """A generic application secret (Django SECRET_KEY, webhook secret...)."""
        return self.plant("API_SECRET", self._chars(ALNUM, n))

    def jwt(self, subject: str, email: str) -> str:
        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        header = b64(b'{"alg":"HS256","typ":"JWT"}')
        exp = self.rng.randint(1_790_000_000, 1_800_000_000)
        payload = b64(f'{{"sub":"{subject}","email":"{email}","exp":{exp}}}'.encode())
        sig = b64(self.rng.randbytes(32))
        return self.plant("JWT", f"{header}.{payload}.{sig}")

    def pem(self) -> str:
        body = "MIIEpAIBAAKCAQEA" + base64.b64encode(self.rng.randbytes(600)).decode()
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        value = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(lines)
        return self.plant("PRIVATE_KEY", value + "\n-----END RSA PRIVATE KEY-----")

    def password(self, value: str | None = None) -> str:
        if value is None:
            value = (
                self.pick(["Kestrel", "Moorhen", "Quokka", "Tarn", "Fjord", "Zander"])
                + self.pick("!#$%&*")
                + self._digits(3)
                + self._chars(LOWER, 3)
                + self.pick("!#$")
            )
        return self.plant("PASSWORD", value)

    def security_answer(self, text: str) -> str:
        return self.plant("SECURITY_ANSWER", text)

    # -- crypto -------------------------------------------------------------------------------

    def mnemonic(self) -> str:
        """A valid 12-word BIP-39 phrase (checksum included) from seeded entropy."""
        entropy = self.rng.randbytes(16)
        bits = bin(int.from_bytes(entropy, "big"))[2:].zfill(128)
        bits += bin(hashlib.sha256(entropy).digest()[0])[2:].zfill(8)[:4]
        words = bip39_words()
        phrase = " ".join(words[int(bits[i : i + 11], 2)] for i in range(0, 132, 11))
        return self.plant("MNEMONIC", phrase)

    def ss58(self, mnemonic: str | None = None) -> str:
        """A Bittensor (SS58 format 42) address: of `mnemonic` when given, else of a random seed."""
        from bittensor_core import Keypair

        if mnemonic is not None:
            address = Keypair.create_from_mnemonic(mnemonic).ss58_address
        else:
            address = Keypair.create_from_seed(self.rng.randbytes(32)).ss58_address
        return self.plant("SS58_ADDRESS", address)

    def btc(self) -> str:
        payload = b"\x00" + self.rng.randbytes(20)
        check = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
        return self.plant("BTC_ADDRESS", base58.b58encode(payload + check).decode())

    def eth(self) -> str:
        from eth_utils import to_checksum_address

        return self.plant("ETH_ADDRESS", to_checksum_address("0x" + self.rng.randbytes(20).hex()))

    # -- travel -------------------------------------------------------------------------------

    def pnr(self) -> str:
        return self.plant("PNR", self._chars("ABCDEFGHJKLMNPQRSTUVWXYZ23456789", 6))

    def flight(self, airline: str) -> str:
        """A flight with the traveller's seat: together they identify one passenger."""
        seat = f"{self.rng.randint(3, 38)}{self.pick('ABCDEF')}"
        return self.plant("FLIGHT", f"{airline} {self.rng.randint(100, 2999)}, seat {seat}")
