"""Read an interaction log file: chat messages in the shape the OpenAI and Anthropic APIs use.

Accepted: a JSON array of messages, a JSON object with a "messages" array (an optional "system"
string is the Anthropic form), or JSONL with one message per line. A message is
{"role": ..., "content": ...}; content is a string or a list of content blocks, of which the
"text" blocks (and the text inside "tool_result" blocks) are read. Roles: user, assistant,
system, tool ("function" and "developer" are mapped to tool and system).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mycel_subnet.collective.errors import BadInput
from protocol import InteractionLog, Turn, describe_validation_error
from protocol import limits as L

MAX_LOG_BYTES = 4 * 1024 * 1024
_ROLES = {"user": "user", "assistant": "assistant", "system": "system", "tool": "tool"}
_ROLES |= {"function": "tool", "developer": "system", "human": "user", "ai": "assistant"}


def _text(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    if content is None:
        return ""
    if not isinstance(content, list):
        raise BadInput(f"{where}: content must be a string or a list of content blocks")
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and isinstance(block.get("text"), str):
            parts.append(block["text"])
        elif isinstance(block, dict) and block.get("type") == "tool_result":
            parts.append(_text(block.get("content"), where))
    return "\n".join(p for p in parts if p)


def _messages(data: Any) -> list[Any]:
    if isinstance(data, dict):
        messages = data.get("messages")
        if not isinstance(messages, list):
            raise BadInput('the log is a JSON object without a "messages" array')
        system = data.get("system")
        if isinstance(system, str) and system.strip():
            return [{"role": "system", "content": system}, *messages]
        return messages
    if isinstance(data, list):
        return data
    raise BadInput("the log must be a JSON array of messages or an object with messages")


def parse_messages(data: Any) -> InteractionLog:
    """Messages (already decoded JSON) as the protocol's InteractionLog."""
    turns = []
    for index, message in enumerate(_messages(data)):
        where = f"message {index + 1}"
        if not isinstance(message, dict):
            raise BadInput(f"{where} is not an object with role and content")
        role = _ROLES.get(str(message.get("role", "")).lower())
        if role is None:
            raise BadInput(f"{where}: unknown role {str(message.get('role'))[:40]!r}")
        text = _text(message.get("content"), where)
        if text.strip():
            turns.append({"role": role, "content": text[: L.MAX_TURN_LEN]})
    if not turns:
        raise BadInput("the log holds no message with text")
    try:
        return InteractionLog(turns=[Turn(**t) for t in turns[: L.MAX_LOG_TURNS]])
    except ValidationError as exc:
        raise BadInput(
            f"the log is not a valid interaction: {describe_validation_error(exc)}"
        ) from None


def decode(raw: bytes, name: str = "the log") -> Any:
    """JSON, or JSONL when the whole does not parse as one document."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"{name} is not UTF-8 text") from None
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as whole:
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) > 1:
            try:
                return [json.loads(line) for line in lines]
            except json.JSONDecodeError:
                pass
        raise BadInput(
            f"{name} is neither JSON nor JSONL: line {whole.lineno} column {whole.colno}: "
            f"{whole.msg}"
        ) from None


def read_log(path: str | Path) -> tuple[InteractionLog, bytes]:
    """The log at `path` and its raw bytes (read once; never stored)."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise BadInput(f"log file not found: {file}")
    raw = file.read_bytes()
    if len(raw) > MAX_LOG_BYTES:
        raise BadInput(f"log file is {len(raw)} bytes; at most {MAX_LOG_BYTES}")
    data = decode(raw, f"log file {file.name}")
    if data is None:
        raise BadInput(f"log file {file.name} is empty")
    return parse_messages(data), raw
