"""Small text helpers shared by the engines: content words, a lexical similarity for when no
embedding model is loaded, and label normalisation. Pure functions, no model, no I/O."""

from __future__ import annotations

import math
import re

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9']+|\d+")
STOP = frozenset(
    """a an the and or but if then else of to in on at by for with from into onto over under is are
    was were be been being am do does did done have has had having it its this that these those
    there here what which who whom whose when where why how all any each every some such no not
    only own same so than too very can could will would shall should may might must i me my we
    our you your he him his she her they them their as about up down out off again further once
    please thanks thank hi hello hey ok okay just also need want like get give make use""".split()  # noqa: SIM905
)


def stem(word: str) -> str:
    """A crude suffix strip so "invoices"/"invoice" and "sorting"/"sort" meet."""
    word = word.lower().strip("'")
    for suffix in ("ing", "ies", "es", "ed", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def content_words(text: str) -> list[str]:
    """Stemmed words of 2+ characters that are not stop words, in order."""
    words = []
    for raw in _WORD.findall(text):
        low = raw.lower()
        if low in STOP or (len(low) < 2 and not low.isdigit()):
            continue
        words.append(stem(low))
    return words


def lexical_similarity(a: str, b: str) -> float:
    """Cosine of the binary content-word vectors of two texts (0..1)."""
    sa, sb = set(content_words(a)), set(content_words(b))
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / math.sqrt(len(sa) * len(sb))


def norm_label(label: str) -> str:
    """Lower-case words joined by single spaces: "Data_Analysis" -> "data analysis"."""
    return " ".join(re.findall(r"[a-z0-9]+", label.lower()))


def label_words(label: str) -> set[str]:
    return {stem(w) for w in norm_label(label).split()}


def clip01(value: float) -> float:
    return 0.0 if value != value else max(0.0, min(1.0, value))  # NaN -> 0


def to_score(value: float) -> int:
    """A 0..1 signal as a 0-100 protocol score."""
    return round(100 * clip01(value))


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary with an ellipsis, keeping the result within `limit` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - 1)].rsplit(" ", 1)[0]
    return (cut or text[: limit - 1]) + "…"
