"""Safe synthetic patterns that give the devnet's registry enough entries for search tasks.

The validator sets a search task only when its registry index holds at least
`validator.search_min_patterns` patterns (20 at the least); a few extracted logs are not that
many. These are small, real patterns across the domains discovery knows: prompt templates and
Python code templates whose docstrings declare examples (the validator runs them in its
sandbox). One code template fails its own examples on purpose (`BROKEN_TRIGGER`): verification
must rate it below the working ones, never quarantine it (broken is not unsafe).
"""

from __future__ import annotations

from datetime import UTC, datetime

from protocol import CodeTemplate, LearnedPattern, PromptTemplate

CREATED = datetime(2026, 1, 1, tzinfo=UTC)

# (domain, trigger, template): the variables are the template's {placeholders}.
PROMPTS: tuple[tuple[str, str, str], ...] = (
    ("communication", "remind a client politely that an invoice is overdue",
     "Write a polite reminder to {client} that invoice {invoice} is {days} days overdue, and "
     "offer help if something is unclear."),
    ("communication", "propose another time for a meeting you cannot attend",
     "Reply to {sender}: thank them for the invitation to {meeting}, say I cannot attend, and "
     "propose {new_time} instead."),
    ("communication", "write a thank-you note after a job interview",
     "Write a short thank-you note to {interviewer} after my interview for the {role} role, "
     "naming one thing we discussed: {topic}."),
    ("communication", "decline a vendor's proposal kindly and keep the door open",
     "Decline {vendor}'s proposal for {project} kindly, give {reason} as the reason, and say "
     "we would like to hear from them next year."),
    ("communication", "announce a new product release to customers",
     "Write an announcement of {product} {version} for our customers: the three main changes "
     "are {changes}. Keep it under 150 words."),
    ("communication", "apologise to a customer for a late delivery",
     "Apologise to {customer} that order {order} arrived {delay} late, explain {cause} "
     "briefly, and offer {remedy}."),
    ("communication", "turn meeting notes into a list of action items with owners",
     "From these meeting notes, list every action item with its owner and due date:\n{notes}"),
    ("communication", "ask a colleague for a review of a document by a deadline",
     "Ask {colleague} to review {document} by {deadline}; say which sections matter most: "
     "{sections}."),
    ("data_analysis", "write an SQL query for monthly revenue per customer",
     "Write an SQL query over the table {table} (columns {columns}) that returns revenue per "
     "customer per month, newest month first."),
    ("data_analysis", "explain the outliers in a sales table",
     "Here is a sales table:\n{table}\nName the outliers, say why each stands out, and suggest "
     "one check for each."),
    ("data_analysis", "describe a chart of website visits for a weekly report",
     "Describe this chart of weekly website visits for a report to {audience}: {data}. Mention "
     "the trend and the biggest change."),
    ("data_analysis", "pick the right chart type for a dataset",
     "I have a dataset with {columns}. Which chart shows {question} best, and why?"),
    ("data_analysis", "clean a messy spreadsheet of contact records",
     "List the steps to clean this spreadsheet of contacts (duplicates, formats, empty "
     "cells): {sample}"),
    ("coding", "write unit tests for a python function",
     "Write pytest unit tests for this function, covering normal input, edge cases and "
     "errors:\n{code}"),
    ("coding", "explain a python stack trace and how to fix it",
     "Explain this Python traceback in plain words and propose a fix:\n{traceback}"),
    ("coding", "review a pull request for bugs and unclear names",
     "Review this diff for bugs, unclear names and missing tests; list findings by "
     "severity:\n{diff}"),
    ("coding", "write a commit message for a change",
     "Write a commit message (a subject under 70 characters, then a body) for this "
     "change:\n{diff}"),
    ("document_search", "find every invoice from last quarter in a folder of documents",
     "Search {folder} for invoices dated between {start} and {end}; list file, supplier and "
     "amount for each."),
    ("document_search", "extract the due date and amount from an invoice PDF",
     "From this invoice text, return the due date, the total amount and the currency as "
     "JSON:\n{text}"),
    ("document_search", "summarise a long report into its key findings",
     "Summarise this report in five bullet points of key findings for {audience}:\n{report}"),
    ("document_search", "compare two versions of a contract and list what changed",
     "Compare these two versions of the contract and list every change in meaning:\n"
     "OLD:\n{old}\nNEW:\n{new}"),
    ("general", "plan a week of simple vegetarian dinners",
     "Plan seven simple vegetarian dinners for {people} people, each under {minutes} minutes, "
     "with one shopping list."),
    ("general", "make a packing list for a trip",
     "Make a packing list for {days} days in {place} in {season}, grouped by category."),
    ("general", "sharpen a kitchen knife with a whetstone step by step",
     "Explain step by step how to sharpen a {knife} on a {grit} grit whetstone, with the "
     "angle to hold."),
)  # fmt: skip

# (domain, trigger, code, entrypoint): each docstring declares examples the code passes.
CODE: tuple[tuple[str, str, str, str], ...] = (
    ("coding", "convert a temperature from celsius to fahrenheit",
     'def celsius_to_fahrenheit(c):\n    """Celsius to Fahrenheit.\n\n'
     '    >>> celsius_to_fahrenheit(100)\n    212.0\n    >>> celsius_to_fahrenheit(-40)\n'
     '    -40.0\n    """\n    return c * 9 / 5 + 32\n', "celsius_to_fahrenheit"),
    ("coding", "turn a title into a url slug",
     'import re\n\ndef slugify(title):\n    """A lower-case URL slug of a title.\n\n'
     "    >>> slugify('Hello, World!')\n    'hello-world'\n"
     "    >>> slugify('  Mycel OS 2  ')\n    'mycel-os-2'\n    \"\"\"\n"
     "    return re.sub(r'[^a-z0-9]+', '-', title.lower()).strip('-')\n", "slugify"),
    ("coding", "check whether a phrase is a palindrome ignoring case and spaces",
     'def is_palindrome(text):\n    """True when text reads the same backwards (letters and '
     "digits only).\n\n    >>> is_palindrome('Never odd or even')\n    True\n"
     "    >>> is_palindrome('Mycel')\n    False\n    \"\"\"\n"
     "    kept = [ch.lower() for ch in text if ch.isalnum()]\n    return kept == kept[::-1]\n",
     "is_palindrome"),
    ("data_analysis", "compute a moving average over a list of numbers",
     'def moving_average(values, window):\n    """The mean of each full window.\n\n'
     "    >>> moving_average([1, 2, 3, 4], 2)\n    [1.5, 2.5, 3.5]\n    \"\"\"\n"
     "    if window < 1:\n        raise ValueError('window must be at least 1')\n"
     "    return [sum(values[i:i + window]) / window for i in range(len(values) - window + 1)]\n",
     "moving_average"),
    ("data_analysis", "group rows by a category and sum their amounts",
     'def sum_by_category(rows):\n    """Sum amounts per category, from [category, amount] '
     "pairs.\n\n    >>> sum_by_category([['a', 1], ['b', 2], ['a', 3]])\n"
     "    {'a': 4, 'b': 2}\n    \"\"\"\n    totals = {}\n    for category, amount in rows:\n"
     "        totals[category] = totals.get(category, 0) + amount\n    return totals\n",
     "sum_by_category"),
    ("data_analysis", "compute the percentage change between two values",
     'def percent_change(old, new):\n    """Change from old to new in percent, rounded to 0.1.'
     "\n\n    >>> percent_change(80, 100)\n    25.0\n    \"\"\"\n"
     "    if old == 0:\n        raise ValueError('old must not be 0')\n"
     "    return round((new - old) / old * 100, 1)\n", "percent_change"),
)  # fmt: skip

# Broken on purpose: it rounds where it should not, so it fails the example it declares.
BROKEN_TRIGGER = "add value added tax to a net price"
BROKEN = (
    "data_analysis", BROKEN_TRIGGER,
    'def add_vat(net, rate):\n    """The gross price of a net price at a VAT rate in percent.\n\n'
    "    >>> add_vat(10.0, 19)\n    11.9\n    \"\"\"\n    return round(net * (1 + rate / 100))\n",
    "add_vat",
)  # fmt: skip


def synthetic_patterns(creator: str) -> list[LearnedPattern]:
    """Every synthetic pattern, prompts first, the broken code template last."""
    patterns = []
    for domain, trigger, template in PROMPTS:
        solution = PromptTemplate(template=template, variables=_placeholders(template))
        patterns.append(_pattern(creator, domain, trigger, solution, None))
    for domain, trigger, code, entrypoint in (*CODE, BROKEN):
        solution = CodeTemplate(language="python", code=code, entrypoint=entrypoint)
        patterns.append(_pattern(creator, domain, trigger, solution, "python"))
    return patterns


def _pattern(creator: str, domain: str, trigger: str, solution, language: str | None):
    return LearnedPattern(creator=creator, created_at=CREATED, trigger=trigger, domain=domain,
                          solution=solution, language=language)  # fmt: skip


def _placeholders(template: str) -> list[str]:
    from protocol.pattern import template_placeholders

    return template_placeholders(template)
