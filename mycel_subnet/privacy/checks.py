"""Check digits and format rules of identifiers, so a detector fires on a real card, IBAN, id or
address and not on any digit run that happens to have the right length ("order 12345",
"commit a1b2c3d"). Each function takes the matched text and returns True when it is valid."""

from __future__ import annotations

import hashlib
import re

import base58

from mycel_subnet.privacy.bip39_words import WORD_SET


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def luhn_ok(number: str) -> bool:
    """Luhn (payment cards, IMEI)."""
    total, parity = 0, len(number) % 2
    for index, char in enumerate(number):
        value = int(char)
        if index % 2 == parity:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_ok(text: str) -> bool:
    number = digits(text)
    return 13 <= len(number) <= 19 and luhn_ok(number) and len(set(number)) > 1


def iban_ok(text: str) -> bool:
    """ISO 13616 mod-97."""
    compact = re.sub(r"[\s-]", "", text).upper()
    if not 15 <= len(compact) <= 34 or not compact[:2].isalpha():
        return False
    rearranged = compact[4:] + compact[:4]
    try:
        number = "".join(str(int(ch, 36)) for ch in rearranged)
    except ValueError:
        return False
    return int(number) % 97 == 1


_NINO_BAD_PREFIX = {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}


def nino_ok(text: str) -> bool:
    """UK National Insurance number: two prefix letters (D F I Q U V never; O never second; a
    few pairs reserved), six digits, suffix A-D."""
    compact = re.sub(r"\s", "", text).upper()
    if not re.fullmatch(r"[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]", compact):
        return False
    return compact[:2] not in _NINO_BAD_PREFIX


def ssn_ok(text: str) -> bool:
    """US SSN: area not 000, 666 or 9xx; group not 00; serial not 0000."""
    number = digits(text)
    if len(number) != 9:
        return False
    area, group, serial = number[:3], number[3:5], number[5:]
    return area not in {"000", "666"} and area[0] != "9" and group != "00" and serial != "0000"


def pan_ok(text: str) -> bool:
    """India PAN: 5 letters (4th is the holder type), 4 digits, a letter."""
    return re.fullmatch(r"[A-Z]{3}[ABCFGHLJPTK][A-Z]\d{4}[A-Z]", text) is not None


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def dni_ok(text: str) -> bool:
    """Spanish DNI (8 digits + letter) or NIE (X/Y/Z + 7 digits + letter): letter = n mod 23."""
    compact = re.sub(r"[\s-]", "", text).upper()
    match = re.fullmatch(r"([XYZ]?)(\d{7,8})([A-Z])", compact)
    if not match:
        return False
    prefix, number, letter = match.groups()
    if prefix:
        if len(number) != 7:
            return False
        number = str("XYZ".index(prefix)) + number
    elif len(number) != 8:
        return False
    return _DNI_LETTERS[int(number) % 23] == letter


_CF_ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25]
_CF_ODD += [24, 23]


def codice_fiscale_ok(text: str) -> bool:
    """Italian codice fiscale: shape and its check letter."""
    code = text.upper()
    if not re.fullmatch(r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z]"
                        r"[0-9LMNPQRSTUV]{3}[A-Z]", code):  # fmt: skip
        return False
    total = 0
    for index, char in enumerate(code[:15]):
        value = int(char) if char.isdigit() else ord(char) - 65
        total += _CF_ODD[value] if index % 2 == 0 else value
    return chr(65 + total % 26) == code[15]


def bsn_ok(text: str) -> bool:
    """Dutch BSN: nine digits passing the 11-test."""
    number = digits(text)
    if len(number) != 9 or number == "0" * 9:
        return False
    total = sum(int(d) * w for d, w in zip(number[:8], range(9, 1, -1), strict=True))
    return (total - int(number[8])) % 11 == 0


def nhs_ok(text: str) -> bool:
    """UK NHS number: ten digits, mod-11 check digit."""
    number = digits(text)
    if len(number) != 10 or len(set(number)) == 1:
        return False
    total = sum(int(d) * w for d, w in zip(number[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(number[9])


def insee_ok(text: str) -> bool:
    """French NIR (social security number): 13 characters + 2-digit key = 97 - n mod 97."""
    compact = re.sub(r"[\s.-]", "", text).upper()
    match = re.fullmatch(r"([12]\d{4})(2A|2B|\d{2})(\d{6})(\d{2})", compact)
    if not match:
        return False
    head, dept, tail, key = match.groups()
    dept_n = {"2A": "19", "2B": "18"}.get(dept, dept)
    offset = {"2A": 1_000_000, "2B": 2_000_000}.get(dept, 0)
    number = int(head + dept_n + tail) - offset
    return 97 - number % 97 == int(key)


def steuer_id_ok(text: str) -> bool:
    """German tax id (Steuer-IdNr): 11 digits, ISO 7064 MOD 11,10 check digit."""
    number = digits(text)
    if len(number) != 11 or number[0] == "0":
        return False
    product = 10
    for char in number[:10]:
        total = (int(char) + product) % 10 or 10
        product = (total * 2) % 11
    check = (11 - product) % 10
    return check == int(number[10])


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


def aadhaar_ok(text: str) -> bool:
    """India Aadhaar: 12 digits, first not 0 or 1, Verhoeff check digit."""
    number = digits(text)
    if len(number) != 12 or number[0] in "01":
        return False
    check = 0
    for index, char in enumerate(reversed(number)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[index % 8][int(char)]]
    return check == 0


def ss58_ok(text: str) -> bool:
    """Substrate SS58 address: base58, checksum = first 2 bytes of
    blake2b-512(b"SS58PRE" + prefix + account id)."""
    try:
        raw = base58.b58decode(text)
    except ValueError:
        return False
    if len(raw) not in (35, 36):  # 1- or 2-byte prefix, 32-byte account id, 2-byte checksum
        return False
    body, checksum = raw[:-2], raw[-2:]
    return hashlib.blake2b(b"SS58PRE" + body, digest_size=64).digest()[:2] == checksum


def base58check_ok(text: str) -> bool:
    """Bitcoin legacy / P2SH address: base58 with a double-SHA256 4-byte checksum."""
    try:
        raw = base58.b58decode(text)
    except ValueError:
        return False
    if len(raw) != 25:
        return False
    digest = hashlib.sha256(hashlib.sha256(raw[:-4]).digest()).digest()
    return digest[:4] == raw[-4:]


_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def bech32_ok(text: str) -> bool:
    """Bitcoin segwit address (bech32 or bech32m checksum)."""
    text = text.lower()
    hrp, _, data = text.rpartition("1")
    if not hrp or len(data) < 6 or any(c not in _BECH32 for c in data):
        return False
    values = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    values += [_BECH32.index(c) for c in data]
    generator = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    check = 1
    for value in values:
        top = check >> 25
        check = (check & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            check ^= generator[i] if (top >> i) & 1 else 0
    return check in (1, 0x2BC830A3)


def mnemonic_ok(text: str) -> bool:
    """A run of 12, 15, 18, 21 or 24 BIP-39 English words (the checksum needs the seed bits,
    which the wordlist order gives; a plain 12-word English sentence almost never has all its
    words in the list, so the word count and list membership are checked, not the bits)."""
    words = text.lower().split()
    return len(words) >= 12 and all(w in WORD_SET for w in words)


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    from math import log2

    counts: dict[str, int] = {}
    for char in text:
        counts[char] = counts.get(char, 0) + 1
    return -sum(c / len(text) * log2(c / len(text)) for c in counts.values())
