"""What an inference request gives a code template to work on: explicit arguments (`args:
[...]` or `{"args": [...]}` in the context or query, a JSON array or object as the whole
context), facts (`key: value` lines or a JSON object), and the values written in the text
(JSON arrays and objects, quoted strings, numbers) in order of appearance. From these, a short
list of candidate argument lists for a function's signature, most explicit first."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from mycel_subnet.engines.codeinfo import Signature
from mycel_subnet.engines.interface import EngineError

_ARGS = re.compile(r"""(?im)(?:^|[\s,;{])["']?args["']?\s*[:=]\s*(?=[\[{])""")
_FACT_LINE = re.compile(r"(?m)^\s*([A-Za-z][A-Za-z0-9_ \-]{0,40}?)\s*[:=]\s*(\S.{0,400}?)\s*$")
_QUOTED = re.compile(r"\"([^\"\n]{0,400})\"|'([^'\n]{0,400})'|“([^”\n]{0,400})”")
_NUMBER = re.compile(r"(?<![\w.\-])-?\d+(?:\.\d+)?(?![\w.])")
MAX_CANDIDATES = 4
_decoder = json.JSONDecoder()


@dataclass
class RequestData:
    facts: dict[str, str] = field(default_factory=dict)
    args: list[Any] | None = None  # explicit positional arguments
    named: dict[str, Any] = field(default_factory=dict)  # a JSON object's fields
    array: list[Any] | None = None  # a bare JSON array as the whole context
    values: list[Any] = field(default_factory=list)  # values found in the text, in order
    text: str = ""  # the context's free text, JSON removed

    def all_text(self, query: str) -> str:
        return f"{query}\n{self.text}".strip()


def _explicit_args(text: str, where: str) -> list[Any] | None:
    match = _ARGS.search(text)
    if match is None:
        return None
    try:
        value, _end = _decoder.raw_decode(text, match.end())
    except json.JSONDecodeError as exc:
        raise EngineError(f"the 'args' in the {where} is not valid JSON: {exc.msg}") from None
    return value if isinstance(value, list) else [value]


def _from_object(obj: dict[str, Any], data: RequestData) -> None:
    if "args" in obj:
        data.args = obj["args"] if isinstance(obj["args"], list) else [obj["args"]]
    facts = obj.get("facts")
    if isinstance(facts, dict):
        data.facts.update({str(k): _as_text(v) for k, v in facts.items()})
    for key, value in obj.items():
        if key in ("args", "facts"):
            continue
        data.named[str(key)] = value
        data.facts.setdefault(str(key), _as_text(value))


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _scan_values(text: str) -> list[tuple[int, Any]]:
    """(position, value) for JSON arrays/objects, quoted strings and numbers in `text`."""
    found: list[tuple[int, int, Any]] = []
    index = 0
    while index < len(text):
        ch = text[index]
        if ch in "[{":
            try:
                value, end = _decoder.raw_decode(text, index)
            except json.JSONDecodeError:
                index += 1
                continue
            found.append((index, end, value))
            index = end
        else:
            index += 1

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, _ in found)

    for match in _QUOTED.finditer(text):
        if free(match.start(), match.end()):
            value = next(g for g in match.groups() if g is not None)
            found.append((match.start(), match.end(), value))
    for match in _NUMBER.finditer(text):
        if free(match.start(), match.end()):
            raw = match.group(0)
            found.append((match.start(), match.end(), float(raw) if "." in raw else int(raw)))
    return [(start, value) for start, _end, value in sorted(found, key=lambda f: f[0])]


def read_request(query: str, context: str) -> RequestData:
    """Parse an inference request's query and context; bad explicit args are an EngineError."""
    data = RequestData()
    stripped = context.strip()
    parsed: Any = None
    if stripped[:1] in ("{", "["):
        try:
            parsed = json.loads(stripped)
        except json.JSONDecodeError:
            parsed = None
    if isinstance(parsed, dict):
        _from_object(parsed, data)
    elif isinstance(parsed, list):
        data.array = parsed
    else:
        data.args = _explicit_args(context, "context")
        text = context
        for match in _FACT_LINE.finditer(context):
            key = match.group(1).strip()
            if key.lower() != "args":
                data.facts.setdefault(key, match.group(2))
        data.text = text.strip()
    if data.args is None:
        data.args = _explicit_args(query, "query")
    values = _scan_values(query) + ([] if parsed is not None else _scan_values(data.text))
    data.values = [v for _, v in values]
    return data


def _decoded(value: str) -> Any:
    try:
        return json.loads(value)
    except (json.JSONDecodeError, TypeError):
        return value


def _after_colon(query: str) -> str | None:
    if ":" not in query:
        return None
    tail = query.rsplit(":", 1)[1].strip()
    return tail or None


def candidate_args(signature: Signature, query: str, data: RequestData) -> list[list[Any]]:
    """Argument lists to try, most explicit first (at most MAX_CANDIDATES)."""
    out: list[list[Any]] = []

    def add(args: list[Any]) -> None:
        if args not in out:
            out.append(args)

    if data.args is not None:
        return [data.args]
    params, k = signature.params, signature.required
    by_name = {**{p: _decoded(v) for p, v in data.facts.items()}, **data.named}
    if k and all(p in by_name for p in params[:k]):
        add([by_name[p] for p in params[:k]])
    if data.array is not None:
        if len(data.array) == k or signature.varargs:
            add(list(data.array))
        if k == 1:
            add([data.array])
    if k == 0 and not signature.varargs:
        add([])
    containers = [v for v in data.values if isinstance(v, (list, dict))]
    if k == 1 and containers:
        add([containers[0]])
    if len(data.values) >= k > 0:
        add(list(data.values[:k]))
    if k == 1:
        strings = [v for v in data.values if isinstance(v, str)]
        if strings:
            add([strings[0]])
        tail = _after_colon(query)
        if tail:
            add([tail])
        if data.text:
            add([data.text])
        add([query])
    return out[:MAX_CANDIDATES]
