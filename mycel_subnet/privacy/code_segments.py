"""Where the free text sits inside code or config of any language: string literals, comments,
config values and CSV cells. Identifiers and keywords are behaviour and stay; these segments are
text a person typed, so they go through the same rules as prose."""

from __future__ import annotations

import re

_HASH = {"python", "py", "sh", "bash", "zsh", "shell", "console", "yaml", "yml", "toml", "ini",
         "cfg", "conf", "env", "dotenv", "ruby", "rb", "r", "perl", "pl", "make", "makefile",
         "dockerfile", "properties", "nginx", "powershell", "ps1", "", "text", "txt"}  # fmt: skip
_SLASH = {"js", "javascript", "ts", "typescript", "jsx", "tsx", "java", "c", "cpp", "c++", "cs",
          "csharp", "go", "rust", "rs", "kotlin", "kt", "swift", "scala", "php", "dart", "css",
          "scss", "json5", "jsonc", "groovy", "", "proto", "solidity", "sol"}  # fmt: skip
_DASH = {"sql", "postgres", "postgresql", "mysql", "sqlite", "lua", "haskell", "hs", "plsql", ""}
_CONFIG = {"yaml", "yml", "toml", "ini", "cfg", "conf", "env", "dotenv", "properties", "",
           "text", "txt", "nginx", "dockerfile", "makefile", "make", "hcl", "tf"}  # fmt: skip
_CSV = {"csv", "tsv", "psv"}

_STRINGS = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|`[^`]*`'
)
_HASH_COMMENT = re.compile(r"(?<![\w&$\\])#(?![!{\[])[^\n]*")
_SLASH_COMMENT = re.compile(r"(?<![:\w])//[^\n]*|/\*[\s\S]*?\*/")
_DASH_COMMENT = re.compile(r"(?<![\w-])--(?![\w-])[^\n]*")
_HTML_COMMENT = re.compile(r"<!--[\s\S]*?-->")
_KEY_VALUE = re.compile(
    r"(?m)^[ \t]*(?:export[ \t]+|-[ \t]+)?[\w.\-\[\]\"']+[ \t]*[:=][ \t]*([^\n]+)$"
)
_XML_TEXT = re.compile(r">([^<>\n]+)<")


def segments(text: str, language: str) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) spans of free text inside `text` (code in `language`;
    "" means untagged, so every family's rules apply)."""
    lang = language.strip().lower()
    if lang in _CSV:
        sep = "\t" if lang == "tsv" else "|" if lang == "psv" else ","
        return [m.span() for m in re.finditer(rf"[^{re.escape(sep)}\n]+", text)]
    found: list[tuple[int, int]] = []
    found += [_inner(m) for m in _STRINGS.finditer(text)]
    if lang in _HASH:
        found += [m.span() for m in _HASH_COMMENT.finditer(text)]
    if lang in _SLASH:
        found += [m.span() for m in _SLASH_COMMENT.finditer(text)]
    if lang in _DASH:
        found += [m.span() for m in _DASH_COMMENT.finditer(text)]
    if lang in {"html", "xml", "svg", "vue", "markdown", "md", ""}:
        found += [m.span() for m in _HTML_COMMENT.finditer(text)]
        found += [m.span(1) for m in _XML_TEXT.finditer(text)]
    if lang in _CONFIG:
        found += [m.span(1) for m in _KEY_VALUE.finditer(text)]
    return _disjoint(found)


def _inner(match: re.Match[str]) -> tuple[int, int]:
    value = match.group(0)
    quote = 3 if value[:3] in {'"""', "'''"} else 1
    return match.start() + quote, match.end() - quote


def _disjoint(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping spans (a string inside a comment becomes the whole comment)."""
    merged: list[list[int]] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]
