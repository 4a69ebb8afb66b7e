# ruff: noqa: E501  (chat text and pasted code lines are kept as a user would type them)
"""Data logs: validators and cleaning tasks over identifiers, money and health data."""

from __future__ import annotations

from tests.privacy.corpus.registry import corpus_log
from tests.privacy.corpus.values import Vault

F = "```"


@corpus_log("data-hr-csv-uk", "data_analysis", "normalise mixed date formats in a CSV column")
def _(v: Vault):
    rows = []
    people = ["Gwenllian Morgan-Prydderch", "Rhodri Llwyd", "Bethan Rhys-Jenkins"]
    for person in people:
        n, d, pc = v.nino(), v.dob(v.pick(["uk", "iso"])), v.postcode()
        rows.append(f"{v.person(person)},{n},{d},{pc}")
    body = "\n".join(rows)
    return [
        (
            "user",
            "Payroll import rejects our staff file because date_of_birth mixes 03/04/1990 and "
            f"1990-04-03. Extract:\n{F}csv\nname,ni_number,date_of_birth,postcode\n{body}\n{F}\n"
            "How do I convert the column to ISO dates safely?",
        ),
        (
            "assistant",
            "Parse each known format explicitly (never let a parser guess day vs month), and "
            "fail loudly on anything else:\n"
            f"{F}python\nfrom datetime import datetime\n\nFORMATS = ('%d/%m/%Y', '%Y-%m-%d')\n\n"
            "def to_iso(value):\n"
            "    for fmt in FORMATS:\n"
            "        try:\n"
            "            return datetime.strptime(value.strip(), fmt).date().isoformat()\n"
            "        except ValueError:\n"
            "            continue\n"
            "    raise ValueError(f'unrecognised date: {value!r}')\n"
            f"{F}\nApply it with `df['date_of_birth'] = df['date_of_birth'].map(to_iso)`.",
        ),
        ("user", f"Import went through. Thanks from {people[1].split()[0]} in payroll."),
    ]


@corpus_log("data-age-formula-ng", "data_analysis", "compute age in whole years from a birth date")
def _(v: Vault):
    name = v.person("Oluwaseun Adeyemi")
    dob = v.dob("uk")
    return [
        (
            "user",
            f"My spreadsheet has my date of birth ({dob}) in B2 and I want my age in whole years "
            f"in C2 that updates every day. I'm {name}, by the way.",
        ),
        (
            "assistant",
            'Use DATEDIF with TODAY(): `=DATEDIF(B2, TODAY(), "Y")`. It counts completed '
            "years, so it only goes up on the birthday. In Python the same rule is:\n"
            f"{F}python\nfrom datetime import date\n\n"
            "def age_on(born, today):\n"
            "    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))\n"
            f"{F}\nMake sure B2 is a real date cell, not text, or DATEDIF returns #VALUE!.",
        ),
        ("user", "It shows the right number. Thank you!"),
    ]


@corpus_log("data-in-kyc", "coding", "validate Indian PAN and Aadhaar numbers in a form")
def _(v: Vault):
    name = v.person("Priya Raghunathan")
    pan, aad = v.pan("Raghunathan"), v.aadhaar()
    tel = v.phone("in")
    return [
        (
            "user",
            f"I'm {name}; our KYC form accepts typos. Mine are PAN {pan} and Aadhaar {aad}; phone {tel}. "
            "How should the backend validate both?",
        ),
        (
            "assistant",
            "PAN is five letters, four digits, one letter, with the fourth letter the holder "
            "type (P for a person). Aadhaar is 12 digits whose last is a Verhoeff check digit:\n"
            f"{F}python\nimport re\n\nPAN = re.compile(r'^[A-Z]{{3}}[ABCFGHLJPT][A-Z][0-9]{{4}}[A-Z]$')\n"
            "D = [[0,1,2,3,4,5,6,7,8,9],[1,2,3,4,0,6,7,8,9,5],[2,3,4,0,1,7,8,9,5,6],\n"
            "     [3,4,0,1,2,8,9,5,6,7],[4,0,1,2,3,9,5,6,7,8],[5,9,8,7,6,0,4,3,2,1],\n"
            "     [6,5,9,8,7,1,0,4,3,2],[7,6,5,9,8,2,1,0,4,3],[8,7,6,5,9,3,2,1,0,4],\n"
            "     [9,8,7,6,5,4,3,2,1,0]]\n"
            "P = [[0,1,2,3,4,5,6,7,8,9],[1,5,7,6,2,8,3,0,9,4],[5,8,0,3,7,9,6,1,4,2],\n"
            "     [8,9,1,6,0,4,3,5,2,7],[9,4,5,3,1,2,6,8,7,0],[4,2,8,6,5,7,3,9,0,1],\n"
            "     [2,7,9,3,8,0,6,4,1,5],[7,0,4,6,9,1,3,2,5,8]]\n\n"
            "def aadhaar_ok(number):\n"
            "    digits = number.replace(' ', '')\n"
            "    if not re.fullmatch(r'[2-9][0-9]{11}', digits):\n"
            "        return False\n"
            "    c = 0\n"
            "    for i, ch in enumerate(reversed(digits)):\n"
            "        c = D[c][P[i % 8][int(ch)]]\n"
            f"    return c == 0\n{F}",
        ),
        ("user", f"Typos are caught now. — {name.split()[0]}"),
    ]


@corpus_log(
    "data-es-dni",
    "coding",
    "check the control letter of a Spanish DNI",
    examples=[(["12345678Z"], True), (["12345678A"], False)],
    entrypoint="dni_ok",
)
def _(v: Vault):
    name = v.person("Álvaro Núñez Ibáñez")
    dni = v.dni()
    mail = v.email("alvaro.nunez", "correo.es")
    return [
        (
            "user",
            f"Soy {name}. Quiero validar DNIs en Python. El mío es {dni}. Escríbeme a {mail} si hace falta. "
            "How is the letter computed?",
        ),
        (
            "assistant",
            "The letter is the number modulo 23 looked up in a fixed table:\n"
            f"{F}python\nLETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE'\n\n"
            "def dni_ok(dni):\n"
            "    dni = dni.upper().replace('-', '').strip()\n"
            "    if len(dni) != 9 or not dni[:8].isdigit():\n"
            "        return False\n"
            "    return LETTERS[int(dni[:8]) % 23] == dni[8]\n"
            f"{F}\nFor NIE numbers replace the leading X/Y/Z with 0/1/2 first.",
        ),
        ("user", f"Funciona. {name.split()[0].upper()} {name.split()[1].upper()}"),
    ]


@corpus_log("data-it-fiscal", "coding", "verify the check character of an Italian codice fiscale")
def _(v: Vault):
    name = v.person("Giulia D'Alessandro")
    cf = v.fiscal_code()
    addr = v.plant("ADDRESS", "Via dei Coronari 112")
    return [
        (
            "user",
            f"For our tenant database I need to verify codici fiscali. Mine is {cf} "
            f"({name}, {addr}, Roma). How does the last letter work?",
        ),
        (
            "assistant",
            "Characters in odd positions (1st, 3rd...) map through a special table, even ones "
            "count 0-25; the sum modulo 26 is the check letter:\n"
            f"{F}python\nODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14,\n"
            "       16, 10, 22, 25, 24, 23]\n\n"
            "def _value(ch, odd):\n"
            "    index = int(ch) if ch.isdigit() else ord(ch) - 65\n"
            "    return ODD[index] if odd else index\n\n"
            "def fiscal_code_ok(code):\n"
            "    code = code.upper()\n"
            "    if len(code) != 16:\n"
            "        return False\n"
            "    total = sum(_value(ch, i % 2 == 0) for i, ch in enumerate(code[:15]))\n"
            f"    return chr(65 + total % 26) == code[15]\n{F}",
        ),
        ("user", "Grazie, all 400 rows check out."),
    ]


@corpus_log(
    "data-nl-bsn",
    "coding",
    "the eleven-test (elfproef) for Dutch BSN numbers",
    examples=[(["111222333"], True), (["111222334"], False)],
    entrypoint="bsn_ok",
)
def _(v: Vault):
    name = v.person("Sanne de Vries")
    bsn = v.bsn()
    iban = v.iban("NL")
    return [
        (
            "user",
            f"Hoi! Our HR tool needs to reject invalid BSNs. My own is {bsn} and salary goes to "
            f"{iban}. What's the rule? — Sanne",
        ),
        (
            "assistant",
            "Weights 9 down to 2 on the first eight digits, minus the last digit, must be a "
            "multiple of 11:\n"
            f"{F}python\ndef bsn_ok(bsn):\n    digits = bsn.strip()\n"
            "    if len(digits) != 9 or not digits.isdigit():\n        return False\n"
            "    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1)))\n"
            f"    return (total - int(digits[8])) % 11 == 0\n{F}\n"
            "Pad 8-digit numbers with a leading zero before checking.",
        ),
        ("user", f"Dank je! {name}"),
    ]


@corpus_log("data-ssn-mask", "coding", "mask US SSNs in application logs")
def _(v: Vault):
    name = v.person("Keisha Okafor")
    s1, s2 = v.ssn(), v.ssn()
    mail = v.email("keisha.okafor", "brightpathlending.com")
    return [
        (
            "user",
            "Our loan service logs full SSNs, e.g.\n"
            f"{F}\nINFO applicant={mail} ssn={s1} status=approved\n"
            f"INFO applicant=co-signer ssn={s2} status=pending\n{F}\n"
            f"Compliance ({name}) wants them masked except the last four.",
        ),
        (
            "assistant",
            "Mask at the logging layer with a filter so no handler ever sees the full number:\n"
            f"{F}python\nimport logging\nimport re\n\n"
            "SSN = re.compile(r'\\b\\d{3}-\\d{2}-(\\d{4})\\b')\n\n"
            "class MaskSSN(logging.Filter):\n"
            "    def filter(self, record):\n"
            "        record.msg = SSN.sub(r'***-**-\\1', str(record.msg))\n"
            f"        return True\n{F}\nAttach it to the root handler at startup.",
        ),
        ("user", "Compliance signed off, thanks."),
    ]


@corpus_log("data-mbi-regex", "coding", "a regex for Medicare Beneficiary Identifiers")
def _(v: Vault):
    name = v.person("Dolores Whitfield-Yazzie")
    m1, m2 = v.mbi(), v.mbi()
    dob = v.dob("us")
    return [
        (
            "user",
            f"Intake form for my mother {name} (DOB {dob}): her MBI is {m1} but the old system "
            f"also shows {m2}. I need a regex that accepts both with or without dashes.",
        ),
        (
            "assistant",
            "MBIs are 11 characters with fixed positions for digits and letters (S, L, O, I, B "
            "and Z are never used):\n"
            f"{F}python\nimport re\n\nL = '[AC-HJKMNP-RT-Y]'\nA = '[AC-HJKMNP-RT-Y0-9]'\n"
            "MBI = re.compile(rf'^[1-9]{L}{A}[0-9]-?{L}{A}[0-9]-?{L}{L}[0-9]{{2}}$')\n\n"
            "def mbi_ok(value):\n"
            f"    return bool(MBI.match(value.upper().strip()))\n{F}",
        ),
        ("user", "Both pass and a typo fails. Thank you."),
    ]


@corpus_log(
    "data-nhs-mod11",
    "coding",
    "validate NHS numbers with the modulus 11 check",
    examples=[(["943 476 5919"], True), (["943 476 5918"], False)],
    entrypoint="nhs_ok",
)
def _(v: Vault):
    name = v.person("Rhodri Llwyd")
    nhs = v.nhs()
    pc = v.postcode()
    med = v.medical("type 1 diabetes, on insulin glargine 22 units")
    return [
        (
            "user",
            f"Clinic referral form: patient {name}, NHS number {nhs}, {pc}, {med}. "
            "Staff keep mistyping the NHS number; how can the form check it?",
        ),
        (
            "assistant",
            "NHS numbers carry a modulus 11 check digit: weights 10 to 2 on the first nine "
            "digits; 11 minus the remainder is the check (11 means 0, 10 means invalid):\n"
            f"{F}python\ndef nhs_ok(number):\n    d = [int(c) for c in number if c.isdigit()]\n"
            "    if len(d) != 10:\n        return False\n"
            "    check = 11 - sum(x * w for x, w in zip(d[:9], range(10, 1, -1))) % 11\n"
            "    check = 0 if check == 11 else check\n"
            f"    return check != 10 and check == d[9]\n{F}",
        ),
        ("user", "Added to the form. Diolch."),
    ]


@corpus_log(
    "data-postcode-regex",
    "coding",
    "validate and normalise UK postcodes",
    examples=[(["sw1a1aa"], "SW1A 1AA"), (["ec1a  1bb"], "EC1A 1BB")],
    entrypoint="normalise_postcode",
)
def _(v: Vault):
    name = v.person("Eilidh MacLeod")
    a1 = v.address("Heol y Nant")
    p1 = v.postcode()
    p2 = v.postcode()
    return [
        (
            "user",
            f"Delivery sign-up: people type '{p1.lower().replace(' ', '')}' or '{p2}'. "
            f"My own is {a1}, {p1}. How do I accept both and store one format? — {name}",
        ),
        (
            "assistant",
            "Strip spaces, upper-case, check the shape, then put one space before the last three "
            "characters:\n"
            f"{F}python\nimport re\n\n"
            "POSTCODE = re.compile(r'^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$')\n\n"
            "def normalise_postcode(raw):\n"
            "    compact = re.sub(r'\\s+', '', raw).upper()\n"
            "    if not POSTCODE.match(compact):\n"
            "        raise ValueError(f'not a UK postcode: {raw!r}')\n"
            f"    return compact[:-3] + ' ' + compact[-3:]\n{F}",
        ),
        ("user", "Lovely, thanks."),
    ]


@corpus_log("data-dvla-licence", "coding", "check the structure of a UK driving licence number")
def _(v: Vault):
    name = v.person("Hywel Bowen-Thomas")
    lic = v.driving_licence("Bowen", "HB")
    plate = v.plate()
    return [
        (
            "user",
            f"Car-share sign-up: licence {lic}, car {plate}, name {name}. How can I sanity-check "
            "the licence number format before calling the DVLA API?",
        ),
        (
            "assistant",
            "The 16 characters are: five letters of the surname (padded with 9), a decade digit, "
            "the month (plus 5 for women), the day, the year digit, two initials (padded with 9), "
            "a digit and two check letters:\n"
            f"{F}python\nimport re\n\n"
            "LICENCE = re.compile(r'^[A-Z9]{5}\\d[0156]\\d[0-3]\\d\\d[A-Z9]{2}\\d[A-Z]{2}$')\n\n"
            "def licence_shape_ok(number, surname):\n"
            "    number = number.replace(' ', '').upper()\n"
            "    prefix = (surname.upper().replace(' ', '') + '99999')[:5]\n"
            f"    return bool(LICENCE.match(number)) and number[:5] == prefix\n{F}",
        ),
        ("user", "Perfect, that catches swapped digits too."),
    ]


@corpus_log(
    "data-anpr-plates",
    "data_analysis",
    "clean OCR'd number plates before matching",
    examples=[(["ab12 cde"], "AB12CDE"), (["M-XO 1234"], "MX01234")],
    entrypoint="plate_key",
)
def _(v: Vault):
    plates = [v.plate(), v.plate(), v.plate("de"), v.plate("nl")]
    owner = v.person("Mariusz Kaczmarek")
    return [
        (
            "user",
            "Our car park camera OCR gives plates like "
            + ", ".join(f"'{p}'" for p in plates)
            + f" with O/0 and I/1 mix-ups. {plates[0]} is {owner}'s van. How do I match them "
            "against the permit list?",
        ),
        (
            "assistant",
            "Normalise both sides the same way: upper-case, drop spaces and dashes, and map the "
            "confusable characters to one canonical form before comparing:\n"
            f"{F}python\nCONFUSABLE = str.maketrans({{'O': '0', 'I': '1', 'Q': '0', 'S': '5'}})\n\n"
            "def plate_key(plate):\n"
            "    compact = ''.join(ch for ch in plate.upper() if ch.isalnum())\n"
            "    return compact.translate(CONFUSABLE)\n\n"
            "def permitted(seen, permits):\n"
            "    keys = {plate_key(p) for p in permits}\n"
            f"    return plate_key(seen) in keys\n{F}",
        ),
        ("user", "Match rate went from 81% to 97%."),
    ]


@corpus_log(
    "data-iban-check-de",
    "coding",
    "validate an IBAN with the mod-97 rule",
    examples=[(["GB82 WEST 1234 5698 7654 32"], True), (["GB82 WEST 1234 5698 7654 33"], False)],
    entrypoint="iban_ok",
)
def _(v: Vault):
    name = v.person("Friederike von Hohenberg")
    iban = v.iban("DE")
    iban2 = v.iban("GB")
    return [
        (
            "user",
            f"Bitte: our invoice tool accepted {iban.replace(' ', '')[:-1]}0 (typo of my "
            f"{iban}). Also a supplier uses {iban2}. How do we validate IBANs? {name}",
        ),
        (
            "assistant",
            "Move the first four characters to the end, turn letters into numbers (A=10 ... "
            "Z=35) and the result modulo 97 must be 1:\n"
            f"{F}python\ndef iban_ok(iban):\n    s = iban.replace(' ', '').upper()\n"
            "    if len(s) < 15 or not s.isalnum():\n        return False\n"
            "    moved = s[4:] + s[:4]\n"
            f"    return int(''.join(str(int(c, 36)) for c in moved)) % 97 == 1\n{F}\n"
            "Check the length per country too (DE is 22, GB 22, NL 18).",
        ),
        ("user", "Danke schön."),
    ]


@corpus_log(
    "data-luhn-amex",
    "coding",
    "the Luhn check for card numbers, any length",
    examples=[
        (["4111 1111 1111 1111"], True),
        (["3782 822463 10005"], True),
        (["4111111111111112"], False),
    ],
    entrypoint="luhn_ok",
)
def _(v: Vault):
    name = v.person("Anjali Venkataraman")
    c1, c2 = v.card("visa"), v.card("amex")
    return [
        (
            "user",
            f"Checkout rejects my Amex {c2} but accepts {c1}. Our validator assumes 16 digits. "
            f"Can you fix it? ({name})",
        ),
        (
            "assistant",
            "Apply Luhn to whatever length you get (Amex is 15) and check the length per brand "
            "separately:\n"
            f"{F}python\ndef luhn_ok(number):\n"
            "    digits = [int(c) for c in number if c.isdigit()]\n"
            "    if not 12 <= len(digits) <= 19:\n        return False\n"
            "    total = 0\n"
            "    for i, d in enumerate(reversed(digits)):\n"
            "        if i % 2 == 1:\n            d = d * 2 - 9 if d > 4 else d * 2\n"
            "        total += d\n"
            f"    return total % 10 == 0\n{F}",
        ),
        ("user", "Amex goes through now."),
    ]


@corpus_log(
    "data-mrz-passport-dk",
    "coding",
    "compute the check digit of a passport MRZ field",
    examples=[(["L898902C3"], 6), (["740812"], 2)],
    entrypoint="mrz_check_digit",
)
def _(v: Vault):
    name = v.person("Lars-Erik Østergaard")
    p1, p2 = v.passport("de"), v.passport("uk")
    dob = v.dob("iso")
    return [
        (
            "user",
            f"Booking form: I typed passport {p1} and my wife's is {p2}. DOB {dob}. How do "
            f"airlines check the MRZ digits so we catch typos? /{name}",
        ),
        (
            "assistant",
            "Each MRZ field is followed by a check digit: weights 7, 3, 1 repeating, digits "
            "count as themselves, letters A=10 to Z=35, '<' is 0; the sum modulo 10:\n"
            f"{F}python\ndef mrz_check_digit(field):\n    weights = (7, 3, 1)\n    total = 0\n"
            "    for i, ch in enumerate(field.upper()):\n"
            "        value = 0 if ch == '<' else int(ch, 36)\n"
            "        total += value * weights[i % 3]\n"
            f"    return total % 10\n{F}\nCompare it with the digit printed after the field.",
        ),
        ("user", f"Tak. {name.upper()}"),
    ]


@corpus_log("data-pandas-nhs-merge", "data_analysis", "merge two tables on a normalised id")
def _(v: Vault):
    n1, n2 = v.nhs(), v.nhs()
    p1, p2 = v.person("Ceridwen Hughes"), v.person("Ifan Prosser")
    d1 = v.dob("uk")
    m1 = v.medical("HbA1c 71 mmol/mol")
    return [
        (
            "user",
            "Two exports, one writes NHS numbers with spaces and one without, so the merge "
            f"finds nothing:\n{F}csv\nnhs_number,name,dob\n{n1},{p1},{d1}\n{n2},{p2},\n{F}\n"
            f"{F}csv\nnhs,latest_result\n{n1.replace(' ', '')},{m1}\n{F}",
        ),
        (
            "assistant",
            "Build one normalised key column on both sides, then merge on it:\n"
            f"{F}python\nimport pandas as pd\n\n"
            "def merge_on_id(left, right, left_col, right_col):\n"
            "    norm = lambda s: s.astype(str).str.replace(r'\\D', '', regex=True)\n"
            "    left = left.assign(_id=norm(left[left_col]))\n"
            "    right = right.assign(_id=norm(right[right_col]))\n"
            f"    return left.merge(right, on='_id', how='left').drop(columns='_id')\n{F}",
        ),
        ("user", "Merged 1,204 of 1,210 rows."),
    ]


@corpus_log(
    "data-yaml-seed", "data_analysis", "load YAML fixtures into SQLite for a staging database"
)
def _(v: Vault):
    blocks = []
    for person, street in (
        ("Eirlys Pughe", "Stryd Fawr"),
        ("Joaquim Brandão", "Rua Augusta"),
        ("Agnieszka Król", "Marszałkowska"),
    ):
        blocks.append(
            f"- name: {v.person(person)}\n  address: {v.address(street)}\n"
            f"  postcode: {v.postcode()}\n  card: {v.card('visa', grouped=False)}\n"
            f"  iban: {v.iban(v.pick(['GB', 'PT', 'PL']))}"
        )
    seed = "\n".join(blocks)
    return [
        (
            "user",
            "Staging needs realistic rows; I exported these from production into seed.yaml:\n"
            f"{F}yaml\ncustomers:\n{seed}\n{F}\nHow do I load a YAML file like this into SQLite?",
        ),
        (
            "assistant",
            "Load with yaml.safe_load and insert with executemany; and generate fake customers "
            "rather than copying production ones:\n"
            f"{F}python\nimport sqlite3\n\nimport yaml\n\n"
            "def load_seed(path, db_path, table='customers'):\n"
            "    with open(path, encoding='utf-8') as fh:\n"
            "        rows = yaml.safe_load(fh)[table]\n"
            "    columns = sorted(rows[0])\n"
            "    with sqlite3.connect(db_path) as db:\n"
            "        db.execute(f\"CREATE TABLE IF NOT EXISTS {table} ({', '.join(columns)})\")\n"
            "        db.executemany(\n"
            "            f\"INSERT INTO {table} VALUES ({', '.join('?' * len(columns))})\",\n"
            "            [tuple(row[c] for c in columns) for row in rows])\n"
            f"    return len(rows)\n{F}",
        ),
        ("user", "Loaded; replacing the data with Faker next."),
    ]


@corpus_log("data-travel-expenses", "data_analysis", "total travel expenses per trip and category")
def _(v: Vault):
    rows = []
    for person, airline in (("Sigrún Hafsteinsdóttir", "FI"), ("Mateusz Wróblewski", "LO")):
        name, pnr, flight = v.person(person), v.pnr(), v.flight(airline)
        rows.append(f'{name},{pnr},"{flight}",flight,412.80')
        rows.append(f"{name},{pnr},,hotel,389.00")
    card = v.card("mastercard")
    body = "\n".join(rows)
    return [
        (
            "user",
            f"Expense export (company card {card}):\n{F}csv\nname,pnr,details,category,amount\n"
            f"{body}\n{F}\nI need totals per trip (PNR) and category for the finance report.",
        ),
        (
            "assistant",
            "Group by trip and category and pivot the categories into columns:\n"
            f"{F}python\nimport pandas as pd\n\n"
            "def totals_by_trip(df, trip='pnr', category='category', amount='amount'):\n"
            "    table = df.pivot_table(index=trip, columns=category, values=amount,\n"
            "                           aggfunc='sum', fill_value=0)\n"
            "    table['total'] = table.sum(axis=1)\n"
            f"    return table.round(2)\n{F}\nShare the report by trip code rather than names.",
        ),
        ("user", "Finance is happy with the format."),
    ]
