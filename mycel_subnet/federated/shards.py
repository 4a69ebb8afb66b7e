"""A miner's private data shard on disk: the texts its federated rounds train on.

A shard is a UTF-8 file, one example per line: plain text (`.txt`), or JSON lines with a
"text" field (`.jsonl`). Reading is bounded (size and count) and every refusal names the file
and the line, so an operator can fix the file without a traceback. The texts never leave the
miner: PII is removed before tokenising (data.py) and only DP adapter updates are shared.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from mycel_subnet.federated.data import MAX_TEXTS

MAX_SHARD_BYTES = 256 * 1_048_576
MAX_TEXT_CHARS = 20_000


class ShardError(ValueError):
    """The shard file cannot be used; the message names the file (and line) and why."""


def read_shard(path: Path) -> list[str]:
    """The non-empty texts of a shard file."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ShardError(f"federated data shard {path} is not a file")
    size = path.stat().st_size
    if size > MAX_SHARD_BYTES:
        raise ShardError(f"federated data shard {path} is {size} bytes; at most {MAX_SHARD_BYTES}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise ShardError(f"federated data shard {path} is not UTF-8 text: {error.reason}") from None
    jsonl = path.suffix.lower() == ".jsonl"
    texts = []
    for number, line in enumerate(lines, start=1):
        text = _text_of(line, jsonl, path, number)
        if not text:
            continue
        if len(text) > MAX_TEXT_CHARS:
            raise ShardError(
                f"{path}:{number}: a text of {len(text)} chars; at most {MAX_TEXT_CHARS}"
            )
        texts.append(text)
        if len(texts) > MAX_TEXTS:
            raise ShardError(f"federated data shard {path} has more than {MAX_TEXTS} texts")
    if not texts:
        raise ShardError(f"federated data shard {path} holds no text")
    return texts


def _text_of(line: str, jsonl: bool, path: Path, number: int) -> str:
    if not jsonl:
        return line.strip()
    if not line.strip():
        return ""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise ShardError(f"{path}:{number}: not JSON ({error.msg})") from None
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise ShardError(f'{path}:{number}: expected an object with a "text" string')
    return record["text"].strip()


def write_shard(path: Path, texts: Iterable[str]) -> Path:
    """Write texts as a .txt shard (one per line; line breaks inside a text become spaces)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(" ".join(t.split()) + "\n" for t in texts), encoding="utf-8")
    return path
