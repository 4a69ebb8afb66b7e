"""Shaping scrubbed text into the reusable parts of a pattern.

A shared pattern keeps the kind of request and the approach that worked, not the user's
instance: greetings, thanks and sentences that only hand over the user's own details are
dropped, pasted data (CSV rows, `label: value` lines, lines that are mostly values) becomes one
`{input}` slot, and the assistant's reply is cut into approach steps. The text reaching here is
already scrubbed (`<KIND>` placeholders); generalisation then turns the remaining specifics into
`{variables}`. Used by both `engines/generate.py` and `privacy/pipeline.py`, so it lives in
the privacy layer and imports nothing from the engines. Pure functions, no model.
"""

from __future__ import annotations

import re
import string

from mycel_subnet.privacy.generalise import generalise

SLOT = re.compile(r"<([A-Z][A-Z_]*)>")
_FIELD = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
_SENTENCE = re.compile(
    r"(?<=[.!?])(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\betc\.)(?<!\bvs\.)(?<!\bno\.)\s+(?=[A-Z0-9<{\"'(])"
)
_LABEL_LINE = re.compile(r"^\s*[-*•]?\s*[\w .()/#-]{1,32}\s*[:=]\s*\S")
# "my key is <API_KEY>", "our account: <IBAN>": the user handing over their own details.
_HANDOVER = re.compile(
    r"\b(?:my|our)\b(?:\s+[\w-]+){1,3}\s*(?:is|are|was|:|=)\s*[<{]|\b(?:i'm|i am|this is)\s+[<{]",
    re.I,
)
_SIGNOFF = re.compile(r"\s*(?:[—–-]{1,2}|/|~)\s*<[A-Z][A-Z_]*>[.!]?\s*$")
_APOSTROPHE = re.compile(r"(?<=\w)'(?=\w)|(?<=s)'(?=\s|$)")
_APOS_MARK = "\ue000"
INPUT_SLOT = "inputblockxqz"  # lower-case: no generaliser rule touches it
MAX_TASK_CHARS = 400
MAX_STEP_CHARS = 220
MAX_STEPS = 6
MIN_STEP_WORDS = 3
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9']+|\d+")
STOP = frozenset(
    """a an the and or but if then else of to in on at by for with from into onto over under is
    are was were be been being am do does did done have has had it its this that these those
    there here what which who when where why how all any each every some such no not only so
    than too very can could will would shall should may might must i me my we our you your he
    him his she her they them their as about up down out off just also please""".split()  # noqa: SIM905
)
PLEASANTRIES = frozenset(
    """hi hello hey dear thank thanks regard best cheer kind sincerely morning afternoon evening
    great awesome perfect cool welcome bye goodbye sure lovely brilliant wonderful appreciate
    much lot again hope well day week nice""".split()  # noqa: SIM905
)
CONTACT_WORDS = frozenset(
    """i'm im name call reach contact mail email e-mail phone number key token password address
    live work sign signed cc here me my is it at on or via ring text whatsapp handle username
    login id account passport card born birthday home office mobile cell""".split()  # noqa: SIM905
)
# Words that start a sentence describing what was done (the approach), not the deliverable.
APPROACH_START = frozenset(
    """i we first then next finally after before afterwards it this the use used run ran check
    checked add added read parse parsed split sort sorted filter filtered group grouped load
    loaded open opened call called set create created build built convert converted compute
    computed keep kept drop dropped remove removed replace replaced start started look looked
    search searched count counted compare compared match matched write wrote save saved send
    sent return returns map mapped join joined validate validated extract extracted install
    configure configured define defined store stored fetch fetched query queried""".split()  # noqa: SIM905
)
# Placeholder kinds and the variable names they become (anything else: the kind, lower-case).
KIND_NAMES = {
    "ORG": "company",  # the generaliser's name for organisations, so both meet
    "ORGANIZATION": "company",
    "ORGANISATION": "company",
    "COMPANY": "company",
    "GPE": "place",
    "LOC": "place",
    "LOCATION": "place",
    "NORP": "group",
    "FAC": "place",
}


def content_words(text: str) -> list[str]:
    """Lower-case words of 2+ characters (or numbers) that are not stop words, in order."""
    out = []
    for raw in _WORD.findall(text):
        low = raw.lower().strip("'")
        if low and low not in STOP and (len(low) >= 2 or low.isdigit()):
            out.append(low[:-1] if len(low) > 3 and low.endswith("s") else low)
    return out


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary with an ellipsis, keeping the result within `limit` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - 1)].rsplit(" ", 1)[0]
    return (cut or text[: limit - 1]) + "…"


def sentences(text: str) -> list[str]:
    """Sentences of every line (a line break always ends a sentence)."""
    out: list[str] = []
    for line in text.splitlines():
        out.extend(s.strip() for s in _SENTENCE.split(line) if s.strip())
    return out


def _words(text: str) -> set[str]:
    return set(content_words(SLOT.sub(" ", _FIELD.sub(" ", text))))


def is_filler(sentence: str) -> bool:
    """Greetings, thanks and sign-offs, and sentences that only hand over the user's own
    details ("I'm <PERSON>, call me at <PHONE>", "my key is <API_KEY>")."""
    words = _words(sentence)
    if not words or words <= PLEASANTRIES:
        return True
    has_slot = bool(SLOT.search(sentence) or _FIELD.search(sentence))
    if has_slot and words <= PLEASANTRIES | CONTACT_WORDS | {"person"}:
        return True
    return bool(_HANDOVER.search(sentence)) and len(words - CONTACT_WORDS) <= 4


def _csv_like(line: str) -> bool:
    """Four or more short fields split by one delimiter, and no question: a pasted row."""
    if line.rstrip().endswith("?"):
        return False
    for delimiter in (",", "\t", "|", ";"):
        cells = [c.strip() for c in line.split(delimiter)]
        if len(cells) >= 4 and max(len(c.split()) for c in cells) <= 3:
            return sum(len(c.split()) <= 1 for c in cells) >= len(cells) / 2
    return False


def _label_line(line: str) -> bool:
    """`Invoice number: INV-1`, `DB_PASSWORD=...`: a short label and a value."""
    if not _LABEL_LINE.match(line) or line.endswith("?"):
        return False
    head = line.split(":", 1)[0].split("=", 1)[0]
    return len(head.split()) <= 4 and len(re.findall(r"[A-Za-z]{2,}", SLOT.sub(" ", line))) <= 10


def is_data_line(line: str) -> bool:
    """A line (or sentence) of pasted data rather than a request: a CSV/TSV row, a
    `label: value` line, or text that is mostly values (placeholders, numbers) with few
    words."""
    stripped = line.strip()
    if not stripped:
        return False
    if _csv_like(stripped) or _label_line(stripped):
        return True
    words = re.findall(r"[A-Za-z]{2,}", SLOT.sub(" ", stripped))
    values = len(SLOT.findall(stripped)) + len(re.findall(r"\d+", stripped))
    return values >= 3 and values >= len(words)


def _is_lead_in(text: str) -> bool:
    """ "Remove duplicates, keep order" before pasted values: a request, not a label."""
    return bool(_ASK.match(text.strip())) and len(content_words(text)) >= 2


def split_data(text: str) -> tuple[str, bool]:
    """(the text without pasted data, whether any data was pasted). A row or `label: value`
    line is data whole; other lines are judged sentence by sentence. Each run of data becomes
    one `INPUT_SLOT` marker line."""
    out: list[str] = []
    pasted = False
    for line in text.splitlines():
        whole = _csv_like(line.strip()) or _label_line(line.strip())
        parts = [line] if whole else _SENTENCE.split(line)
        prose: list[str] = []
        for part in parts:
            lead, _, rest = part.partition(": ")
            if rest and is_data_line(rest) and _is_lead_in(lead):
                prose.append(lead.strip() + ":")
                part = rest
            if is_data_line(part):
                pasted = True
                if prose:
                    out.append(" ".join(prose))
                    prose = []
                if not out or out[-1] != INPUT_SLOT:
                    out.append(INPUT_SLOT)
            elif part.strip():
                prose.append(part.strip())
        if prose:
            out.append(" ".join(prose))
        elif not line.strip():
            out.append("")
    return "\n".join(out).strip(), pasted


def task_sentences(text: str) -> list[str]:
    """The request part of a user turn: its non-filler sentences, pasted data as one
    `INPUT_SLOT` marker."""
    body, _ = split_data(text)
    parts = [_SIGNOFF.sub("", s) for s in sentences(body)]
    return [s for s in parts if s == INPUT_SLOT or (s and not is_filler(s))]


def join_task(parts: list[str]) -> str:
    """Task sentences as one text (the data marker on its own paragraph), capped."""
    text = ""
    for part in parts:
        if part == INPUT_SLOT:
            text = text.rstrip() + (f"\n\n{INPUT_SLOT}\n\n" if INPUT_SLOT not in text else "")
        else:
            text += part + " "
    text = text.strip()
    return text if len(text) <= MAX_TASK_CHARS else text[:MAX_TASK_CHARS].rsplit(" ", 1)[0]


_ASK = re.compile(
    r"^(?:(?:can|could|would|will) (?:you|we|i)|please|how|what|which|why|when|where|is there|"
    r"should|write|make|draft|create|build|find|help|explain|convert|fix|give|show|list|"
    r"summari[sz]e|translate|generate|extract|compute|calculate|check|add|remove|sort|parse|"
    r"rewrite|turn|tell|(?:i|we) (?:need|want)|i'd like|need|want)\b",
    re.I,
)
MAX_INSTANCE_RATIO = 0.34  # slots per content word above which a sentence is the instance


def is_ask(sentence: str) -> bool:
    """A question or a request ("How do I...?", "Write...", "Can you...")."""
    return sentence.rstrip().endswith("?") or bool(_ASK.match(sentence.strip()))


def without_instance(parts: list[str]) -> list[str]:
    """Task sentences without those that are mostly the user's values ("Mine are PAN
    <NATIONAL_ID> and <PHONE>"); the limit doubles when too little would be left."""
    for limit in (MAX_INSTANCE_RATIO, 2 * MAX_INSTANCE_RATIO):
        kept = [p for p in parts if p == INPUT_SLOT or slot_ratio(p) <= limit]
        if len(content_words(" ".join(p for p in kept if p != INPUT_SLOT))) >= 3:
            return kept
    return parts


def kind_of_request(parts: list[str]) -> str:
    """The trigger's text: the asks (questions, requests) with the sentence that sets them up;
    data markers and lead-ins to pasted data ("Config:") left out."""
    all_prose = [p for p in parts if p != INPUT_SLOT and not p.rstrip().endswith(":")]
    prose = [p for p in all_prose if slot_ratio(p) <= MAX_INSTANCE_RATIO] or all_prose
    asks = [i for i, p in enumerate(prose) if is_ask(p)]
    if not asks:
        return " ".join(prose[:2])
    before = all_prose[all_prose.index(prose[asks[0]]) - 1 : all_prose.index(prose[asks[0]])]
    setup = [b for b in before if len(b) < 160 and slot_ratio(b) <= 0.5]
    chosen = [*setup, prose[asks[0]]]
    if len(asks) > 1 and len(" ".join(chosen)) < 150:
        chosen.append(prose[asks[1]])
    return " ".join(chosen)


def task_text(text: str) -> str:
    return join_task(task_sentences(text))


def approach_steps(prose: str) -> list[str]:
    """Sentences of the assistant's reply that describe what was done, in order; when none
    starts like an approach step, the first informative sentences."""
    candidates = []
    for sentence in sentences(split_data(prose)[0]):
        if sentence == INPUT_SLOT or is_filler(sentence):
            continue
        if len(content_words(sentence)) < MIN_STEP_WORDS:
            continue
        candidates.append(shorten(sentence, MAX_STEP_CHARS))
    first_word = [re.findall(r"[a-z']+", c.lower())[:1] for c in candidates]
    marked = [
        c for c, w in zip(candidates, first_word, strict=True) if w and w[0] in APPROACH_START
    ]
    chosen = marked if len(marked) >= 2 or not candidates else candidates
    return list(dict.fromkeys(chosen))[:MAX_STEPS]


def slot_ratio(text: str) -> float:
    """Placeholders per content word: high for a sentence that is mostly the user's values."""
    slots = len(SLOT.findall(text)) + len(_FIELD.findall(text))
    return slots / max(1, len(content_words(SLOT.sub(" ", _FIELD.sub(" ", text)))))


def slots_to_variables(template: str, taken: set[str]) -> str:
    """`<EMAIL>` placeholders from scrubbing become `{email}` variables (one name per kind)."""
    names: dict[str, str] = {}

    def name_for(match: re.Match[str]) -> str:
        kind = match.group(1)
        if kind not in names:
            base = KIND_NAMES.get(kind, kind.lower())
            name, n = base, 1
            while name in taken:
                n += 1
                name = f"{base}_{n}"
            taken.add(name)
            names[kind] = name
        return "{" + names[kind] + "}"

    return SLOT.sub(name_for, template)


def generalise_text(text: str, markers: dict[str, str] | None = None) -> str:
    """Specifics -> `{variables}`, placeholders included; a valid format string. Apostrophes
    inside words are protected from the quote rule ("user's ... team's" is not a quote);
    `markers` maps sentinel words to the `{field}` they stand for."""
    protected = _APOSTROPHE.sub(_APOS_MARK, text)
    general = generalise(protected)
    out = slots_to_variables(general.template, set(general.variables)).replace(_APOS_MARK, "'")
    for sentinel, field in {INPUT_SLOT: "{input}", **(markers or {})}.items():
        out = out.replace(sentinel, field)
    return out


def fields(template: str) -> list[str]:
    """The `{variables}` of a format string, in order, each once."""
    out: list[str] = []
    for _lit, field, _spec, _conv in string.Formatter().parse(template):
        if field is not None and field not in out:
            out.append(field)
    return out


def to_trigger(template: str, limit: int) -> str:
    """A template's text with `{var}` shown as `<var>` and escapes undone."""
    pieces = []
    for literal, field, _spec, _conv in string.Formatter().parse(template):
        pieces.append(literal)
        if field is not None:
            pieces.append(f"<{field}>")
    return shorten("".join(pieces), limit)
