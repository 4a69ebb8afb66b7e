"""inference challenges: queries with checkable answers, a relevant pattern among decoys.

Code kind: the relevant pattern is a code template for the query's task; the arguments are in
the context as `args: [...]`; the answer is the JSON result, which the validator computes with
its own reference implementation. Extraction kind: a document in the context holds known field
values among noise; the answer is a JSON object with exactly the requested fields. Either way
the miner should name the relevant pattern (and no decoy) in `patterns_used`.
"""

from __future__ import annotations

import json
import random
import string
from typing import Any

from mycel_subnet.validator.challenges import code_bank
from mycel_subnet.validator.challenges.base import (
    Challenge,
    CodeChecker,
    Grade,
    make_pattern,
    parse_json_answer,
)
from protocol import CodeTemplate, InferenceRequest, PromptTemplate

ANSWER_WEIGHT = 0.8
USED_WEIGHT = 0.2


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _upper(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.ascii_uppercase) for _ in range(n))


# doc kind -> (domain, {field: generator})
DOCUMENTS: dict[str, tuple[str, dict[str, Any]]] = {
    "invoice": ("finance", {
        "invoice_number": lambda r: f"INV-{_digits(r, 6)}",
        "vendor": lambda r: r.choice(("Globex GmbH", "Initech BV", "Hooli Inc", "Acme SA")),
        "total": lambda r: f"{r.randint(10, 9999)}.{_digits(r, 2)}",
        "due_date": lambda r: f"2026-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
        "currency": lambda r: r.choice(("EUR", "USD", "GBP", "CHF")),
    }),
    "contract": ("legal", {
        "contract_id": lambda r: f"C-{_upper(r, 2)}{_digits(r, 5)}",
        "counterparty": lambda r: r.choice(("Tyrell Corp", "Wonka Ltd", "Oscorp LLC")),
        "effective_date": lambda r: f"20{r.randint(24, 30)}-{r.randint(1, 12):02d}-01",
        "governing_law": lambda r: r.choice(("England", "New York", "Bavaria", "Ontario")),
        "notice_days": lambda r: str(r.choice((14, 30, 45, 60, 90))),
    }),
    "incident": ("devops", {
        "incident_id": lambda r: f"INC-{_digits(r, 5)}",
        "service": lambda r: r.choice(("billing", "auth", "search", "ingest")),
        "severity": lambda r: r.choice(("SEV1", "SEV2", "SEV3")),
        "region": lambda r: r.choice(("eu-west-1", "us-east-2", "ap-south-1")),
        "duration_min": lambda r: str(r.randint(3, 400)),
    }),
    "shipment": ("support", {
        "tracking_number": lambda r: f"{_upper(r, 2)}{_digits(r, 9)}{_upper(r, 2)}",
        "carrier": lambda r: r.choice(("DHL", "UPS", "PostNL", "La Poste")),
        "destination": lambda r: r.choice(("Lyon", "Graz", "Porto", "Tartu", "Bergen")),
        "weight_kg": lambda r: f"{r.randint(1, 80)}.{r.randint(0, 9)}",
        "parcels": lambda r: str(r.randint(1, 12)),
    }),
    "job_post": ("hr", {
        "role": lambda r: r.choice(("SRE", "paralegal", "data engineer", "designer")),
        "location": lambda r: r.choice(("Remote", "Berlin", "Madrid", "Austin")),
        "salary_band": lambda r: f"{r.randint(40, 90)}k-{r.randint(91, 160)}k",
        "start_month": lambda r: r.choice(("March", "June", "September", "November")),
        "team": lambda r: r.choice(("Platform", "Growth", "Risk", "Data")),
    }),
}  # fmt: skip
NOISE = (
    "Notes: please keep this document for your records.",
    "Prepared by the operations desk.",
    "Reference internal memo 7 for background.",
    "Status: draft pending approval.",
    "Page 1 of 1",
)


def _label(field: str) -> str:
    return field.replace("_", " ").title()


def _code_pattern(rng: random.Random, family: code_bank.CodeFamily, trigger: str) -> Any:
    name = rng.choice(family.names)
    solution = CodeTemplate(language="python", code=family.source(name), entrypoint=name)
    return make_pattern(rng, trigger=trigger, solution=solution, domain=family.domain)


def _extract_pattern(rng: random.Random, kind: str) -> Any:
    domain, _fields = DOCUMENTS[kind]
    template = (
        f"From the {kind.replace('_', ' ')} below, extract {{fields}} and answer with a JSON "
        "object using exactly those keys.\n\n{document}"
    )
    solution = PromptTemplate(template=template, variables=["fields", "document"])
    trigger = f"Extract named fields from a {kind.replace('_', ' ')} as JSON"
    return make_pattern(rng, trigger=trigger, solution=solution, domain=domain)


def _used_score(used: list[str], relevant: str, decoys: set[str]) -> float:
    if relevant not in used:
        return 0.0
    return 0.5 if decoys & set(used) else 1.0


def _code_challenge(rng: random.Random) -> Challenge:
    family = rng.choice(code_bank.FAMILIES)
    phrasings = list(family.phrasings)
    trigger = phrasings.pop(rng.randrange(len(phrasings)))
    relevant = _code_pattern(rng, family, trigger)
    others = rng.sample([f for f in code_bank.FAMILIES if f.key != family.key], rng.randint(2, 3))
    decoys = [_code_pattern(rng, f, rng.choice(f.phrasings)) for f in others]
    decoys.append(_extract_pattern(rng, rng.choice(list(DOCUMENTS))))
    offered = [relevant, *decoys]
    rng.shuffle(offered)
    args = family.gen_args(rng)
    expected = code_bank.call(family, args)
    query = (
        f"{rng.choice(phrasings)}. Use the arguments given in the context and reply with the "
        "JSON result only."
    )
    request = InferenceRequest(
        query=query, context=f"args: {json.dumps(args)}", available_patterns=offered
    )
    decoy_ids = {d.id for d in decoys}

    def score(results: list[Any | None], _checker: CodeChecker) -> Grade:
        result = results[0]
        if result is None:
            return Grade(0.0, "no answer")
        try:
            exact = parse_json_answer(result.response) == expected
        except ValueError:
            exact = False
        used = _used_score(result.patterns_used, relevant.id, decoy_ids)
        accuracy = ANSWER_WEIGHT * exact + USED_WEIGHT * used
        return Grade(accuracy, f"exact={exact} used={used}")

    return Challenge("inference", (request,), score, f"inference {family.category} {family.key}")


def _extraction_challenge(rng: random.Random) -> Challenge:
    kind = rng.choice(list(DOCUMENTS))
    _domain, generators = DOCUMENTS[kind]
    values = {field: gen(rng) for field, gen in generators.items()}
    lines = [f"{_label(field)}: {value}" for field, value in values.items()]
    lines += rng.sample(NOISE, 2)
    rng.shuffle(lines)
    wanted = rng.sample(list(values), rng.randint(2, 4))
    relevant = _extract_pattern(rng, kind)
    decoys = [_extract_pattern(rng, k) for k in rng.sample([k for k in DOCUMENTS if k != kind], 2)]
    family = rng.choice(code_bank.FAMILIES)
    decoys.append(_code_pattern(rng, family, rng.choice(family.phrasings)))
    offered = [relevant, *decoys]
    rng.shuffle(offered)
    query = (
        f"Extract {', '.join(wanted)} from the {kind.replace('_', ' ')} in the context. "
        "Answer with a JSON object using exactly those keys."
    )
    request = InferenceRequest(query=query, context="\n".join(lines), available_patterns=offered)
    decoy_ids = {d.id for d in decoys}
    expected = {field: values[field] for field in wanted}

    def score(results: list[Any | None], _checker: CodeChecker) -> Grade:
        result = results[0]
        if result is None:
            return Grade(0.0, "no answer")
        try:
            answer = parse_json_answer(result.response)
        except ValueError:
            answer = None
        right = 0
        if isinstance(answer, dict):
            right = sum(str(answer.get(f, "")).strip() == v for f, v in expected.items())
        fraction = right / len(expected)
        used = _used_score(result.patterns_used, relevant.id, decoy_ids)
        accuracy = ANSWER_WEIGHT * fraction + USED_WEIGHT * used
        return Grade(accuracy, f"fields {right}/{len(expected)} used={used}")

    return Challenge("inference", (request,), score, f"inference extraction {kind}")


def build(rng: random.Random) -> Challenge:
    return _code_challenge(rng) if rng.random() < 0.6 else _extraction_challenge(rng)
