"""Logging to stderr, plain or one JSON object per line, with a filter that keeps secrets out."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
import time
from typing import TextIO

# Values that look like secrets are masked in every log line, whatever logged them.
_SECRET_PATTERNS = [
    re.compile(r"sk-ant-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"sk-[A-Za-z0-9]{16,}"),
    re.compile(r"ed25519:[1-9A-HJ-NP-Za-km-z]{32,}"),  # NEAR private keys
    re.compile(r"\b0x[0-9a-fA-F]{64}\b"),  # raw 32-byte seeds / private keys
]


def redact(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub("[REDACTED]", text)
    return text


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in getattr(record, "fields", {}).items():
            payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


# Mycel's own loggers: they follow --logging.debug / --logging.trace; everything else (presidio,
# spaCy, httpx, transformers, bittensor, uvicorn...) is held at WARNING whatever the level.
OWN_LOGGERS = ("mycel_subnet", "mycel", "neurons", "protocol", "__main__")
TRACE = 5  # below DEBUG: per-request and per-challenge detail
logging.addLevelName(TRACE, "TRACE")
_PROGRESS_ENV = {
    "TQDM_DISABLE": "1",  # tqdm >= 4.66 reads its defaults from TQDM_* variables
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "warning",
}


# Libraries whose warnings are expected noise here: presidio warns once per recognizer for
# every language the registry does not load (dozens of lines at start-up).
_QUIETER = {"presidio-analyzer": logging.ERROR, "presidio-anonymizer": logging.ERROR}


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _is_own(name: str) -> bool:
    return any(_under(name, own) for own in OWN_LOGGERS)


class _ThirdPartyFilter(logging.Filter):
    """Drops other libraries' records below WARNING (ERROR for the noisiest), even from
    loggers that set their own level (presidio's, spaCy's), so --logging.debug shows Mycel's
    detail, not theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _is_own(record.name):
            return True
        floor = next((lv for p, lv in _QUIETER.items() if _under(record.name, p)), logging.WARNING)
        return record.levelno >= floor


def level_number(level: str | int) -> int:
    """'TRACE', 'DEBUG', 'INFO', ... or a number -> the logging level number."""
    if isinstance(level, int):
        return level
    number = logging.getLevelName(level.upper())
    if not isinstance(number, int):
        raise ValueError(f"unknown log level {level!r}; use TRACE, DEBUG, INFO or WARNING")
    return number


def disable_progress_bars() -> None:
    """No tqdm / Hugging Face progress bars: in a file or a JSON log they are only noise (and
    carriage returns that break one-object-per-line). Covers libraries imported later (through
    the environment) and those already imported (through their own switches)."""
    for key, value in _PROGRESS_ENV.items():
        os.environ.setdefault(key, value)
    hub = sys.modules.get("huggingface_hub")
    if hub is not None:
        with contextlib.suppress(Exception):
            hub.utils.disable_progress_bars()
    if "transformers" in sys.modules:
        with contextlib.suppress(Exception):
            sys.modules["transformers"].utils.logging.disable_progress_bar()


def tame_transformers() -> None:
    """transformers logs through its own stderr handler (no propagation): route it through
    ours, so its warnings get our format (JSON too) and progress bars follow our rules. Call
    after importing transformers; harmless before."""
    if "transformers" not in sys.modules:
        return
    with contextlib.suppress(Exception):
        tlog = sys.modules["transformers"].utils.logging
        tlog.disable_default_handler()
        tlog.enable_propagation()
        if _progress_off:
            tlog.disable_progress_bar()


_progress_off = False


def configure_logging(
    level: str | int = "INFO", json_lines: bool = False, *, stream: TextIO | None = None
) -> None:
    """Send every log record to stderr; idempotent so tests and subcommands can call it again.

    ``level`` applies to Mycel's own loggers (TRACE, DEBUG, INFO, WARNING); other libraries
    stay at WARNING. Progress bars are turned off when the output is JSON or not a terminal.
    """
    global _progress_off
    stream = stream or sys.stderr
    number = level_number(level)
    handler = logging.StreamHandler(stream)
    handler.addFilter(_RedactingFilter())
    handler.addFilter(_ThirdPartyFilter())
    if json_lines:
        handler.setFormatter(_JsonFormatter())
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
        formatter.converter = time.gmtime
        handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(logging.WARNING, number))
    for own in OWN_LOGGERS:
        logging.getLogger(own).setLevel(number)
    _progress_off = json_lines or not _isatty(stream)
    if _progress_off:
        disable_progress_bars()
    tame_transformers()


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
