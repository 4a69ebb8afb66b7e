"""Hidden prompt templates: assembled from domain sentence banks and filled with random values.

A hidden template is an opener for its domain, one or two detail sentences and a contact
sentence carrying personal data, each with named slots. The combinations (domains x openers x
details x contacts x orders) and the random fills make the space far too large to memorise.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass

from mycel_subnet.validator.challenges import pii

OPENERS: dict[str, tuple[str, ...]] = {
    "legal": (
        "Draft a {doc} between {company} and {company_b} covering {topic}.",
        "Review the {doc} signed with {company} and flag every clause about {topic}.",
        "Summarise the obligations of {company} under the {doc} regarding {topic}.",
    ),
    "writing": (
        "Write a {tone} blog post about {topic} for {audience}.",
        "Rewrite this product announcement for {product} in a {tone} voice for {audience}.",
        "Proofread the newsletter about {topic} and make it sound {tone}.",
    ),
    "code": (
        "Refactor the {language} module that handles {topic} in the {service} service.",
        "Write unit tests in {language} for the {service} endpoint that deals with {topic}.",
        "Explain the {language} stack trace from the {service} service about {topic}.",
    ),
    "data": (
        "Clean the {dataset} dataset and report the {metric} per {region}.",
        "Build a chart of {metric} over time from the {dataset} table for {region}.",
        "Find outliers in the {metric} column of the {dataset} export.",
    ),
    "devops": (
        "Roll back the {service} deployment in {env} to version {version}.",
        "Write a runbook for restarting {service} in {env} after a {topic} incident.",
        "Set up an alert in {env} when {service} reports {metric} above {amount}.",
    ),
    "finance": (
        "Reconcile the {company} invoices for {month} against the ledger totalling {amount}.",
        "Prepare a {month} budget variance report for {company} with a cap of {amount}.",
        "Explain the {amount} charge from {company} on the {month} statement.",
    ),
    "support": (
        "Reply to the customer whose {product} order shipped to {region} arrived damaged.",
        "Write a {tone} apology for the {product} outage affecting {region}.",
        "Escalate the {product} ticket about {topic} to the {service} team.",
    ),
    "marketing": (
        "Plan a {tone} campaign launching {product} in {region} for {audience}.",
        "Write three subject lines for the {product} email aimed at {audience}.",
        "Outline a landing page for {product} that explains {topic} to {audience}.",
    ),
    "hr": (
        "Draft an offer letter for the {role} position starting {month} with salary {amount}.",
        "Write interview questions for a {role} candidate focused on {topic}.",
        "Summarise the onboarding plan for the new {role} in {region}.",
    ),
    "research": (
        "Summarise recent papers on {topic} for {audience} in a {tone} style.",
        "Compare the {metric} reported by studies of {topic} on the {dataset} benchmark.",
        "Draft the related-work section on {topic} citing the {dataset} results.",
    ),
}

DETAILS: tuple[str, ...] = (
    "Keep it under {words} words.",
    "The deadline is {month}.",
    "Use {language} examples where it helps.",
    "Mention the reference number {ref}.",
    "Answer in {human_language}.",
    "Highlight anything that affects {region}.",
    "Add a short table of the {metric}.",
    "Quote the figure of {amount} exactly.",
)

CONTACTS: tuple[str, ...] = (
    "I am {person}; send the result to {email}.",
    "Contact {person} at {phone} if anything is unclear.",
    "Bill the work to IBAN {iban} and copy {email}.",
    "Use the API key {api_key} and notify {email} when done.",
    "Ask {person} on {phone} or by mail at {email}.",
    "Payment goes to {iban}; questions to {person}.",
)

PII_SLOTS = {"person": "PERSON", "email": "EMAIL", "phone": "PHONE", "api_key": "API_KEY",
             "iban": "IBAN"}  # fmt: skip


def _choice(*values: str) -> Callable[[random.Random], str]:
    return lambda rng: rng.choice(values)


def _code(prefix: str) -> Callable[[random.Random], str]:
    return lambda rng: prefix + "-" + "".join(rng.choice(string.digits) for _ in range(5))


_COMPANY_A = ("Northwind", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne")
_COMPANY_B = ("Solaris", "Cyberdyne", "Tyrell", "Aperture", "Oscorp", "Wonka", "Acme", "Monarch")
_SUFFIX = ("Ltd", "GmbH", "Inc", "BV", "SA", "LLC")

FILLS: dict[str, Callable[[random.Random], str]] = {
    "doc": _choice("service agreement", "NDA", "licence", "lease", "supply contract", "MoU"),
    "company": lambda rng: f"{rng.choice(_COMPANY_A)} {rng.choice(_SUFFIX)}",
    "company_b": lambda rng: f"{rng.choice(_COMPANY_B)} {rng.choice(_SUFFIX)}",
    "topic": _choice(
        "data retention", "late payment", "termination", "liability caps", "rate limiting",
        "caching", "onboarding", "churn", "latency spikes", "pricing", "accessibility",
        "carbon reporting", "fraud checks", "password resets", "GDPR requests", "vector search",
    ),
    "tone": _choice("friendly", "formal", "concise", "playful", "neutral", "persuasive"),
    "audience": _choice(
        "new users", "CFOs", "developers", "students", "small shops", "nurses", "investors"
    ),
    "product": _choice("Orbit", "Lumen", "Pixelate", "Quill", "Harbor", "Nimbus", "Tandem"),
    "language": _choice("Python", "TypeScript", "Go", "Rust", "Java", "Kotlin"),
    "service": _choice("billing", "auth", "search", "checkout", "ingest", "notifications"),
    "dataset": _choice("sales_2025", "churn_q3", "sensor_raw", "web_logs", "claims", "orders"),
    "metric": _choice("median latency", "revenue", "error rate", "conversion", "p95 delay"),
    "region": _choice("Bavaria", "Ontario", "Lombardy", "Kyushu", "Patagonia", "Flanders"),
    "env": _choice("staging", "production", "eu-west", "canary", "us-east"),
    "version": lambda rng: f"{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}",
    "amount": lambda rng: f"{rng.randint(100, 99_999)}.{rng.randint(0, 99):02d} EUR",
    "month": _choice(
        "January", "February", "March", "April", "May", "June", "July", "August", "September",
        "October", "November", "December",
    ),
    "role": _choice("data engineer", "paralegal", "product designer", "SRE", "accountant"),
    "words": lambda rng: str(rng.choice(range(150, 1200, 50))),
    "ref": _code("REF"),
    "human_language": _choice("German", "Spanish", "Italian", "Dutch", "French", "Japanese"),
}  # fmt: skip

DOMAINS: tuple[str, ...] = tuple(OPENERS)


@dataclass(frozen=True)
class HiddenTemplate:
    """A hidden prompt template: its text with `{slot}` placeholders and its domain."""

    domain: str
    text: str
    slots: tuple[str, ...]

    def fill(self, values: dict[str, str]) -> str:
        return self.text.format(**values)


def _slots(text: str) -> list[str]:
    return [field for _, field, _, _ in string.Formatter().parse(text) if field]


def hidden_template(rng: random.Random, domain: str | None = None) -> HiddenTemplate:
    """A random hidden template whose slots never repeat and which carries personal data."""
    domain = domain or rng.choice(DOMAINS)
    while True:
        opener = rng.choice(OPENERS[domain])
        details = rng.sample(DETAILS, rng.randint(1, 2))
        contact = rng.choice(CONTACTS)
        parts = [opener, *details, contact]
        if rng.random() < 0.3:
            parts = [opener, contact, *details]
        text = " ".join(parts)
        slots = _slots(text)
        if len(slots) == len(set(slots)):
            return HiddenTemplate(domain, text, tuple(slots))


def fresh_fills(
    template: HiddenTemplate, rng: random.Random, count: int
) -> list[tuple[dict[str, str], list[pii.PlantedPii]]]:
    """`count` fillings whose values differ between fillings slot by slot (so the variable
    parts are visible by comparison), with the planted personal data of each."""
    fillings: list[tuple[dict[str, str], list[pii.PlantedPii]]] = []
    used: dict[str, set[str]] = {slot: set() for slot in template.slots}
    for _ in range(count):
        values: dict[str, str] = {}
        planted: list[pii.PlantedPii] = []
        for slot in template.slots:
            for _attempt in range(50):
                if slot in PII_SLOTS:
                    item = pii.make(PII_SLOTS[slot], rng)
                    value = item.value
                else:
                    item, value = None, FILLS[slot](rng)
                if value not in used[slot]:
                    break
            used[slot].add(value)
            values[slot] = value
            if item is not None:
                planted.append(item)
        fillings.append((values, planted))
    return fillings
