"""A last line of defence for personal names before a pattern is shared. Offline presidio has no
NER model, and the privacy recognisers find names only in greetings and signatures; here any run
of two or three Capitalised words that are not known non-names ("Acme Corp" stays for the
generaliser's company rule) is treated as a name. Over-redaction costs a little utility;
under-redaction leaks a person, so this errs on the side of removing."""

from __future__ import annotations

import re

_CAP = r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
_RUN = re.compile(rf"(?<![\w<{{]){_CAP}(?:[ \t]+{_CAP}){{1,2}}(?![\w>}}])")
_ASSOCIATE = re.compile(
    rf"\b(?:colleague|manager|boss|client|customer|friend|wife|husband|son|daughter|user|"
    rf"employee|contact|landlord|tenant|doctor|teacher)[ \t]+({_CAP})\b"
)
# Capitalised words that start sentences, name products, days, months or organisations.
NOT_NAME_WORDS = frozenset(
    """The This That These Those There Here What Which When Where Why How Who Please Thanks Thank
    Can Could Would Should Will Shall May Might Must Do Does Did Is Are Was Were Be Have Has Had
    Find Write Make Create Show Give Get Send Read Sort Parse Convert Extract Compute Calculate
    Return Add Remove Delete Update Check Count Sum List Build Use Run Fix Explain Summarise
    Summarize Translate Draft Reply Help Tell Generate Format Split Merge Filter Group Then And
    But Or For With From Into Over Under After Before During Also Just Only Here Now Today
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May
    June July August September October November December Python Java JavaScript TypeScript Rust
    Go Ruby Linux Windows Docker Git GitHub Google Microsoft Amazon Apple Excel Word Slack Jira
    Corp Corporation Inc Ltd Company Group Labs Bank Partners Street Avenue Road Lane Drive
    North South East West New York London Paris Berlin Tokyo Dear Hi Hello Hey Best Regards Kind
    Sincerely Cheers Yes No Okay Sure Step Note Example Input Output Result Error Table Report
    Invoice Invoices Order Orders Account Customer Support Team Sales Marketing Data Api Json
    Csv Sql Html Url Id First Second Third Last Next Total Quarterly Annual Monthly Weekly Daily
    Q1 Q2 Q3 Q4""".split()  # noqa: SIM905
)


def find_names(text: str) -> list[str]:
    """Likely personal names in `text`, in order (duplicates kept out)."""
    found: list[str] = []
    for match in _RUN.finditer(text):
        words = match.group(0).split()
        if not any(w in NOT_NAME_WORDS for w in words):
            found.append(" ".join(words))
    for match in _ASSOCIATE.finditer(text):
        if match.group(1) not in NOT_NAME_WORDS:
            found.append(match.group(1))
    return list(dict.fromkeys(found))


def name_parts(name: str) -> list[str]:
    """A full name and its parts that could identify on their own ("Alice", "Johnson")."""
    parts = [p for p in re.split(r"[ \t-]+", name) if len(p) >= 3 and p not in NOT_NAME_WORDS]
    return [name, *parts] if len(parts) > 1 else [name]
