# ruff: noqa: E501 - the bank reads best with one source line per string
"""A bank of small code tasks with a correct and subtly broken implementations each.

Each family describes one task in several phrasings (so a trigger and a query can say the same
thing in different words), has a correct reference implementation, one or more broken variants
that differ only on edge cases, and a generator of random arguments that hits those edge cases
often. Ground truth is computed by running the validator's own correct source in-process (it is
the validator's code, not a miner's); miners' code only ever runs in the sandbox.
"""

from __future__ import annotations

import copy
import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

ArgGen = Callable[[random.Random], list[Any]]


@dataclass(frozen=True)
class CodeFamily:
    """One task: phrasings, a correct and broken sources (`FN` is the function name), args."""

    key: str
    domain: str
    category: str  # "code" (compute a value) or "transform" (exact text transformation)
    names: tuple[str, ...]
    params: tuple[str, ...]
    phrasings: tuple[str, ...]
    correct: str
    broken: tuple[str, ...]
    gen_args: ArgGen

    def source(self, name: str, variant: int | None = None) -> str:
        """Source with the function called `name`; variant None = correct, i = broken[i]."""
        body = self.correct if variant is None else self.broken[variant]
        return body.replace("FN", name)

    def signature(self, name: str) -> str:
        return f"{name}({', '.join(self.params)})"


@cache
def _compiled(source: str, name: str) -> Callable[..., Any]:
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<bank:{name}>", "exec"), namespace)  # validator-owned source only
    return namespace[name]


def call(family: CodeFamily, args: list[Any], variant: int | None = None) -> Any:
    """Run the validator's own implementation on a deep copy of args; JSON round-tripped."""
    fn = _compiled(family.source("fn_ref", variant), "fn_ref")
    try:
        value = fn(*copy.deepcopy(args))
    except Exception as exc:  # a broken variant may raise on an edge case
        return {"__error__": type(exc).__name__}
    return json.loads(json.dumps(value))


def _ints(rng: random.Random, lo: int = -20, hi: int = 40, n: tuple[int, int] = (0, 8)) -> list:
    return [rng.randint(lo, hi) for _ in range(rng.randint(*n))]


def _word(rng: random.Random, lo: int = 3, hi: int = 8) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(lo, hi)))


def _gen_sum_above(rng: random.Random) -> list[Any]:
    values = _ints(rng)
    threshold = rng.choice(values) if values and rng.random() < 0.7 else rng.randint(-5, 20)
    return [values, threshold]


def _gen_count_prefix(rng: random.Random) -> list[Any]:
    prefix = _word(rng, 1, 3)
    words = []
    for _ in range(rng.randint(0, 7)):
        word = (prefix + _word(rng, 0, 4)) if rng.random() < 0.5 else _word(rng)
        words.append(word.capitalize() if rng.random() < 0.4 else word)
    return [words, prefix]


def _gen_rotate(rng: random.Random) -> list[Any]:
    items = _ints(rng, 0, 9, (0, 6))
    return [items, rng.randint(0, 14)]


def _gen_dedupe(rng: random.Random) -> list[Any]:
    return [[rng.choice("pqrsxyz") for _ in range(rng.randint(0, 9))]]


def _gen_values(rng: random.Random) -> list[Any]:
    return [_ints(rng, -9, 30, (0, 8))]


def _gen_clamp(rng: random.Random) -> list[Any]:
    lo = rng.randint(-10, 5)
    return [_ints(rng, -25, 35, (0, 8)), lo, lo + rng.randint(0, 15)]


def _gen_caesar(rng: random.Random) -> list[Any]:
    letters = string.ascii_letters + "  ,.!xyzXYZ"
    text = "".join(rng.choice(letters) for _ in range(rng.randint(0, 20)))
    return [text, rng.randint(0, 30)]


def _gen_snake(rng: random.Random) -> list[Any]:
    parts = [_word(rng, 2, 6) for _ in range(rng.randint(1, 4))]
    return ["_".join(parts)]


def _gen_pct(rng: random.Random) -> list[Any]:
    old = 0 if rng.random() < 0.25 else rng.randint(-50, 500)
    return [old, rng.randint(-50, 500), rng.randint(0, 3)]


def _gen_compound(rng: random.Random) -> list[Any]:
    return [rng.randint(100, 10_000), rng.choice([0.5, 1, 2.5, 3, 4.25, 7]), rng.randint(0, 12)]


def _gen_window(rng: random.Random) -> list[Any]:
    values = _ints(rng, 0, 50, (0, 9))
    return [values, rng.randint(1, 4)]


def _gen_kv(rng: random.Random) -> list[Any]:
    pairs = []
    for _ in range(rng.randint(0, 4)):
        pad = " " if rng.random() < 0.5 else ""
        pairs.append(f"{pad}{_word(rng, 1, 5)}{pad}={pad}{rng.randint(0, 99)}{pad}")
    if rng.random() < 0.3:
        pairs.append("")
    return [";".join(pairs)]


def _gen_text(rng: random.Random) -> list[Any]:
    alphabet = string.ascii_letters + "AEIOUaeiou   "
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))]


def _gen_second(rng: random.Random) -> list[Any]:
    values = _ints(rng, 0, 9, (0, 6))
    if values and rng.random() < 0.5:
        values.append(max(values))
    return [values]


def _gen_chunk(rng: random.Random) -> list[Any]:
    return [_ints(rng, 0, 9, (0, 9)), rng.randint(1, 4)]


def _gen_top_words(rng: random.Random) -> list[Any]:
    pool = [_word(rng, 2, 5) for _ in range(4)]
    return [" ".join(rng.choice(pool) for _ in range(rng.randint(0, 12))), rng.randint(1, 3)]


def _gen_mask(rng: random.Random) -> list[Any]:
    digits = "".join(rng.choice(string.digits) for _ in range(rng.randint(4, 16)))
    return [digits, rng.randint(0, 4)]


def _gen_median(rng: random.Random) -> list[Any]:
    return [_ints(rng, -10, 30, (1, 8))]


def _gen_brackets(rng: random.Random) -> list[Any]:
    return ["".join(rng.choice("()[]{}a") for _ in range(rng.randint(0, 10)))]


def _gen_date(rng: random.Random) -> list[Any]:
    day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1990, 2035)
    return [f"{day:02d}/{month:02d}/{year}"]


def _gen_versions(rng: random.Random) -> list[Any]:
    def version() -> str:
        return ".".join(str(rng.choice([0, 1, 2, 9, 10, 11])) for _ in range(3))

    a = version()
    return [a, a if rng.random() < 0.2 else version()]


def _gen_seconds(rng: random.Random) -> list[Any]:
    return [rng.choice([rng.randint(0, 59), rng.randint(60, 3599), rng.randint(3600, 90_000)])]


def _gen_invoice(rng: random.Random) -> list[Any]:
    lines = [
        [rng.randint(1, 9), round(rng.uniform(0.5, 99.99), 2)] for _ in range(rng.randint(0, 5))
    ]
    return [lines, rng.choice([0, 5, 7.5, 19, 20])]


def _gen_logs(rng: random.Random) -> list[Any]:
    levels = ["INFO", "WARN", "ERROR", "DEBUG"]
    lines = []
    for _ in range(rng.randint(0, 7)):
        msg = rng.choice(["disk ok", "retry ERROR budget", "timeout", "WARN flag set", "done"])
        lines.append(f"2026-01-0{rng.randint(1, 9)} {rng.choice(levels)} {msg}")
    return [lines, rng.choice(levels[:3])]


FAMILIES: tuple[CodeFamily, ...] = (
    CodeFamily(
        "sum_above", "finance", "code", ("sum_above", "total_over", "sum_exceeding"),
        ("values", "threshold"),
        ("Add up the amounts that are strictly greater than a threshold",
         "Total of the values exceeding a given threshold, ignoring the rest",
         "Sum only the numbers larger than the threshold"),
        "def FN(values, threshold):\n    return sum(v for v in values if v > threshold)\n",
        ("def FN(values, threshold):\n    return sum(v for v in values if v >= threshold)\n",),
        _gen_sum_above,
    ),
    CodeFamily(
        "count_prefix", "writing", "code", ("count_prefix", "words_starting", "prefix_count"),
        ("words", "prefix"),
        ("Count how many words start with a prefix, ignoring letter case",
         "Number of words beginning with the given prefix, case-insensitive",
         "Tally the words whose start matches a prefix regardless of upper or lower case"),
        "def FN(words, prefix):\n"
        "    return sum(1 for w in words if w.lower().startswith(prefix.lower()))\n",
        ("def FN(words, prefix):\n    return sum(1 for w in words if w.startswith(prefix))\n",),
        _gen_count_prefix,
    ),
    CodeFamily(
        "rotate_left", "data", "transform", ("rotate_left", "shift_items", "rotate_list"),
        ("items", "k"),
        ("Rotate a list to the left by k positions, wrapping around",
         "Shift the items of a list left k places with wrap-around (k may exceed the length)",
         "Left rotation of a list by k steps, cycling elements to the end"),
        "def FN(items, k):\n    if not items:\n        return []\n    k %= len(items)\n"
        "    return items[k:] + items[:k]\n",
        ("def FN(items, k):\n    return items[k:] + items[:k]\n",),
        _gen_rotate,
    ),
    CodeFamily(
        "dedupe", "data", "transform", ("dedupe", "unique_in_order", "drop_duplicates"),
        ("items",),
        ("Remove duplicate entries from a list while keeping the first occurrence order",
         "Deduplicate a list preserving the original order of first appearance",
         "Unique items of a list in the order they first appear"),
        "def FN(items):\n    seen = set()\n    out = []\n    for x in items:\n"
        "        if x not in seen:\n            seen.add(x)\n            out.append(x)\n    return out\n",
        ("def FN(items):\n    return sorted(set(items))\n",),
        _gen_dedupe,
    ),
    CodeFamily(
        "running_total", "finance", "code", ("running_total", "cumulative_sum", "prefix_sums"),
        ("values",),
        ("Running balance: cumulative sums of a list of amounts",
         "Compute the cumulative total after each value in the list",
         "Prefix sums of the amounts, one running total per entry"),
        "def FN(values):\n    out, total = [], 0\n    for v in values:\n        total += v\n"
        "        out.append(total)\n    return out\n",
        ("def FN(values):\n    out, total = [], 0\n    for v in values[:-1]:\n        total += v\n"
         "        out.append(total)\n    return out\n",),
        _gen_values,
    ),
    CodeFamily(
        "clamp_all", "data", "code", ("clamp_all", "bound_values", "clip_range"),
        ("values", "lo", "hi"),
        ("Clamp every value into the inclusive range lo to hi",
         "Clip each number so it lies between a lower and an upper bound",
         "Bound all values to the interval from lo to hi inclusive"),
        "def FN(values, lo, hi):\n    return [max(lo, min(v, hi)) for v in values]\n",
        ("def FN(values, lo, hi):\n    return [min(v, hi) for v in values]\n",),
        _gen_clamp,
    ),
    CodeFamily(
        "caesar", "security", "transform", ("caesar", "shift_letters", "rot_cipher"),
        ("text", "shift"),
        ("Caesar cipher: shift each letter by a number of places, keeping case and other characters",
         "Encode text by rotating letters through the alphabet, preserving upper and lower case",
         "Apply a letter rotation cipher to text, leaving punctuation and spaces unchanged"),
        "def FN(text, shift):\n    out = []\n    for c in text:\n        if 'a' <= c <= 'z':\n"
        "            out.append(chr((ord(c) - 97 + shift) % 26 + 97))\n"
        "        elif 'A' <= c <= 'Z':\n            out.append(chr((ord(c) - 65 + shift) % 26 + 65))\n"
        "        else:\n            out.append(c)\n    return ''.join(out)\n",
        ("def FN(text, shift):\n    out = []\n    for c in text:\n        if 'a' <= c <= 'z':\n"
         "            out.append(chr((ord(c) - 97 + shift) % 26 + 97))\n"
         "        else:\n            out.append(c)\n    return ''.join(out)\n",),
        _gen_caesar,
    ),
    CodeFamily(
        "snake_to_camel", "code", "transform", ("snake_to_camel", "to_camel_case", "camelize"),
        ("name",),
        ("Convert a snake_case identifier to lowerCamelCase",
         "Turn an underscore separated name into camel case with a lower-case first word",
         "Rewrite snake case variable names as lowerCamelCase identifiers"),
        "def FN(name):\n    parts = name.split('_')\n"
        "    return parts[0] + ''.join(p.capitalize() for p in parts[1:])\n",
        ("def FN(name):\n    return ''.join(p.capitalize() for p in name.split('_'))\n",),
        _gen_snake,
    ),
    CodeFamily(
        "pct_change", "finance", "code", ("pct_change", "percent_change", "growth_rate"),
        ("old", "new", "digits"),
        ("Percentage change from an old to a new value, rounded, or None when the old value is zero",
         "Compute the percent growth between two figures with rounding; undefined (None) from zero",
         "Relative change in percent of new versus old, rounded to the given digits"),
        "def FN(old, new, digits):\n    if old == 0:\n        return None\n"
        "    return round((new - old) / abs(old) * 100, digits)\n",
        ("def FN(old, new, digits):\n    if old == 0:\n        return None\n"
         "    return round((new - old) / old * 100, digits)\n",),
        _gen_pct,
    ),
    CodeFamily(
        "compound", "finance", "code", ("compound", "future_value", "grow_balance"),
        ("principal", "rate_pct", "years"),
        ("Compound interest: balance after some years at a yearly percentage rate, to cents",
         "Future value of a deposit compounding annually at a percent rate, rounded to 2 places",
         "Grow a principal with yearly compounding interest and round the result to cents"),
        "def FN(principal, rate_pct, years):\n"
        "    return round(principal * (1 + rate_pct / 100) ** years, 2)\n",
        ("def FN(principal, rate_pct, years):\n"
         "    return round(principal * (1 + rate_pct / 100 * years), 2)\n",),
        _gen_compound,
    ),
    CodeFamily(
        "moving_avg", "data", "code", ("moving_avg", "rolling_mean", "window_average"),
        ("values", "window"),
        ("Moving average over every full window of a series, rounded to 3 decimals",
         "Rolling mean of a list for each complete window of the given size",
         "Average of each sliding window across the values, three decimal places"),
        "def FN(values, window):\n"
        "    return [round(sum(values[i:i + window]) / window, 3)"
        " for i in range(len(values) - window + 1)]\n",
        ("def FN(values, window):\n"
         "    return [round(sum(values[i:i + window]) / window, 3)"
         " for i in range(len(values) - window)]\n",),
        _gen_window,
    ),
    CodeFamily(
        "parse_kv", "devops", "code", ("parse_kv", "parse_settings", "kv_pairs"),
        ("text",),
        ("Parse semicolon separated key=value settings into a mapping, trimming spaces",
         "Turn a 'key=value;key=value' configuration string into a dictionary, skipping blanks",
         "Read key value pairs split by semicolons into a dict with stripped keys and values"),
        "def FN(text):\n    out = {}\n    for part in text.split(';'):\n        if '=' in part:\n"
        "            k, v = part.split('=', 1)\n            out[k.strip()] = v.strip()\n    return out\n",
        ("def FN(text):\n    out = {}\n    for part in text.split(';'):\n        if '=' in part:\n"
         "            k, v = part.split('=', 1)\n            out[k] = v\n    return out\n",),
        _gen_kv,
    ),
    CodeFamily(
        "count_vowels", "writing", "code", ("count_vowels", "vowel_total", "vowels_in"),
        ("text",),
        ("Count the vowels a e i o u in a text, upper or lower case",
         "Number of vowel letters in the string, case-insensitive",
         "Tally of vowels in the text regardless of capitalisation"),
        "def FN(text):\n    return sum(1 for c in text.lower() if c in 'aeiou')\n",
        ("def FN(text):\n    return sum(1 for c in text if c in 'aeiou')\n",),
        _gen_text,
    ),
    CodeFamily(
        "second_largest", "data", "code", ("second_largest", "runner_up", "next_highest"),
        ("values",),
        ("Second largest distinct value of a list, or None when there is none",
         "Find the runner-up maximum among distinct numbers; None if fewer than two",
         "Next highest distinct number below the maximum, None when missing"),
        "def FN(values):\n    distinct = sorted(set(values))\n"
        "    return distinct[-2] if len(distinct) >= 2 else None\n",
        ("def FN(values):\n    ordered = sorted(values)\n"
         "    return ordered[-2] if len(ordered) >= 2 else None\n",),
        _gen_second,
    ),
    CodeFamily(
        "chunk", "data", "transform", ("chunk", "batch_items", "split_batches"),
        ("items", "size"),
        ("Split a list into consecutive batches of a given size; the last batch may be shorter",
         "Chunk items into groups of size n, keeping a final partial group",
         "Break a sequence into fixed-size pieces in order, including the remainder"),
        "def FN(items, size):\n    return [items[i:i + size] for i in range(0, len(items), size)]\n",
        ("def FN(items, size):\n"
         "    return [items[i:i + size] for i in range(0, len(items) - size + 1, size)]\n",),
        _gen_chunk,
    ),
    CodeFamily(
        "top_words", "writing", "code", ("top_words", "frequent_words", "common_terms"),
        ("text", "n"),
        ("The n most frequent words of a text, ties broken alphabetically",
         "Top n words by count in the text; equal counts ordered alphabetically",
         "Most common words, n of them, sorted by frequency then by the word itself"),
        "def FN(text, n):\n    counts = {}\n    for w in text.split():\n"
        "        counts[w] = counts.get(w, 0) + 1\n"
        "    return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]\n",
        ("def FN(text, n):\n    counts = {}\n    for w in text.split():\n"
         "        counts[w] = counts.get(w, 0) + 1\n"
         "    return [w for w, _ in sorted(counts.items(), key=lambda kv: -kv[1])[:n]]\n",),
        _gen_top_words,
    ),
    CodeFamily(
        "mask_digits", "security", "transform", ("mask_digits", "mask_account", "hide_number"),
        ("digits", "keep"),
        ("Mask an account number with '*' except its last few digits",
         "Hide all but the final keep characters of a card or account number with asterisks",
         "Redact a number string leaving only the trailing digits visible"),
        "def FN(digits, keep):\n    if keep <= 0:\n        return '*' * len(digits)\n"
        "    return '*' * max(0, len(digits) - keep) + digits[-keep:]\n",
        ("def FN(digits, keep):\n    return digits[:keep] + '*' * max(0, len(digits) - keep)\n",),
        _gen_mask,
    ),
    CodeFamily(
        "median", "data", "code", ("median", "middle_value", "median_of"),
        ("values",),
        ("Median of a non-empty list of numbers; the mean of the two middle ones for even sizes",
         "Middle value of the sorted numbers, averaging the central pair when the count is even",
         "Compute the statistical median of the values"),
        "def FN(values):\n    s = sorted(values)\n    m = len(s) // 2\n"
        "    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2\n",
        ("def FN(values):\n    s = sorted(values)\n    return s[len(s) // 2]\n",),
        _gen_median,
    ),
    CodeFamily(
        "balanced", "code", "code", ("balanced", "brackets_ok", "is_balanced"),
        ("text",),
        ("Check that round, square and curly brackets are balanced and properly nested",
         "True when every bracket ( [ { is closed in the right order",
         "Validate nesting of parentheses, square brackets and braces in a string"),
        "def FN(text):\n    pairs = {')': '(', ']': '[', '}': '{'}\n    stack = []\n"
        "    for c in text:\n        if c in '([{':\n            stack.append(c)\n"
        "        elif c in pairs:\n            if not stack or stack.pop() != pairs[c]:\n"
        "                return False\n    return not stack\n",
        ("def FN(text):\n    return all(text.count(o) == text.count(c)"
         " for o, c in ('()', '[]', '{}'))\n",),
        _gen_brackets,
    ),
    CodeFamily(
        "date_to_iso", "legal", "transform", ("date_to_iso", "iso_date", "normalise_date"),
        ("date",),
        ("Convert a day/month/year date like 31/12/2025 to ISO format 2025-12-31",
         "Rewrite DD/MM/YYYY dates as YYYY-MM-DD",
         "Normalise European slash dates to the ISO 8601 calendar form"),
        "def FN(date):\n    d, m, y = date.split('/')\n    return f'{y}-{m}-{d}'\n",
        ("def FN(date):\n    d, m, y = date.split('/')\n    return f'{y}-{d}-{m}'\n",),
        _gen_date,
    ),
    CodeFamily(
        "version_cmp", "devops", "code", ("version_cmp", "compare_versions", "semver_order"),
        ("a", "b"),
        ("Compare two dotted version strings numerically: -1, 0 or 1",
         "Order release versions like 1.10.0 and 1.9.2 by their numeric parts",
         "Return -1, 0 or 1 comparing semantic version numbers component by component"),
        "def FN(a, b):\n    x = [int(p) for p in a.split('.')]\n    y = [int(p) for p in b.split('.')]\n"
        "    return (x > y) - (x < y)\n",
        ("def FN(a, b):\n    return (a > b) - (a < b)\n",),
        _gen_versions,
    ),
    CodeFamily(
        "seconds_hms", "devops", "transform", ("seconds_hms", "format_duration", "to_hms"),
        ("seconds",),
        ("Format a number of seconds as H:MM:SS",
         "Render a duration in seconds as hours, two-digit minutes and two-digit seconds",
         "Turn elapsed seconds into an H:MM:SS clock string"),
        "def FN(seconds):\n    h, rest = divmod(seconds, 3600)\n    m, s = divmod(rest, 60)\n"
        "    return f'{h}:{m:02d}:{s:02d}'\n",
        ("def FN(seconds):\n    h, rest = divmod(seconds, 3600)\n    m, s = divmod(rest, 60)\n"
         "    return f'{h}:{m}:{s}'\n",),
        _gen_seconds,
    ),
    CodeFamily(
        "invoice_total", "finance", "code", ("invoice_total", "bill_amount", "order_total"),
        ("lines", "tax_pct"),
        ("Invoice total: sum of quantity times unit price plus tax percent, rounded to cents",
         "Total of an order from [quantity, price] lines with a tax rate applied, to 2 decimals",
         "Bill amount including tax for line items of quantity and unit price"),
        "def FN(lines, tax_pct):\n    net = sum(q * p for q, p in lines)\n"
        "    return round(net * (1 + tax_pct / 100), 2)\n",
        ("def FN(lines, tax_pct):\n    net = sum(q * p for q, p in lines)\n"
         "    return round(net + tax_pct, 2)\n",),
        _gen_invoice,
    ),
    CodeFamily(
        "count_level", "devops", "code", ("count_level", "level_count", "count_log_level"),
        ("lines", "level"),
        ("Count log lines whose level field (the second token) equals a level",
         "Number of log entries at a given severity level such as ERROR or WARN",
         "Tally log records by their level column, not by words in the message"),
        "def FN(lines, level):\n"
        "    return sum(1 for line in lines if len(line.split()) > 1 and line.split()[1] == level)\n",
        ("def FN(lines, level):\n    return sum(1 for line in lines if level in line)\n",),
        _gen_logs,
    ),
)  # fmt: skip

BY_KEY: dict[str, CodeFamily] = {family.key: family for family in FAMILIES}


def hidden_tests(
    family: CodeFamily, rng: random.Random, n: int = 8, discriminate: bool = True
) -> list[tuple[list[Any], Any]]:
    """`n` (args, expected) cases; with `discriminate`, at least one on which each broken
    variant gives a different answer, so a broken template can never pass them all."""
    cases: list[tuple[list[Any], Any]] = []
    if discriminate:
        for variant in range(len(family.broken)):
            for _ in range(200):
                args = family.gen_args(rng)
                if call(family, args, variant) != call(family, args):
                    cases.append((args, call(family, args)))
                    break
            else:  # pragma: no cover - the bank's own tests make sure this never happens
                raise RuntimeError(f"{family.key}: no case tells broken variant {variant} apart")
    while len(cases) < n:
        args = family.gen_args(rng)
        cases.append((args, call(family, args)))
    rng.shuffle(cases)
    return cases
