"""Personal-data removal for a whole interaction log, built on the privacy pipeline.

`remove_pii` finds e-mails, phones, keys, names in greetings and signatures; every value it
finds anywhere in the log is remembered, so the same e-mail or name is removed wherever else it
appears (inside code, in a later turn, without its greeting). Prose also goes through the
engine's name heuristic; code literals do not (a string like "Bad Request" is behaviour, not a
person), but they still lose every value found elsewhere in the log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mycel_subnet.engines.names import find_names, name_parts
from mycel_subnet.privacy import remove_pii

MIN_KNOWN_LEN = 3


@dataclass
class LogScrubber:
    """Remembers the private values of one log and removes them from any text."""

    use_presidio: bool = True
    known: dict[str, str] = field(default_factory=dict)  # value -> placeholder type
    removed_types: set[str] = field(default_factory=set)

    def learn(self, text: str, *, guess_names: bool = True) -> None:
        """Find private values in `text` and remember them; `guess_names` adds the name
        heuristic (for prose, not code)."""
        redaction = remove_pii(text, use_presidio=self.use_presidio)
        for finding in redaction.findings:
            value = text[finding.start : finding.end].strip()
            if len(value) >= MIN_KNOWN_LEN:
                self.known.setdefault(value, finding.type)
                if finding.type == "PERSON":
                    for part in name_parts(value):
                        self.known.setdefault(part, "PERSON")
        for name in find_names(redaction.text) if guess_names else []:
            for part in name_parts(name):
                self.known.setdefault(part, "PERSON")

    def _replace_known(self, text: str) -> tuple[str, int]:
        count = 0
        for value in sorted(self.known, key=len, reverse=True):
            pattern = re.compile(rf"(?<![\w@.]){re.escape(value)}(?![\w@])")
            text, n = pattern.subn(f"<{self.known[value]}>", text)
            if n:
                count += n
                self.removed_types.add(self.known[value])
        return text, count

    def prose(self, text: str) -> str:
        """Free text with every private value replaced by a typed placeholder."""
        text, _ = self._replace_known(text)
        redaction = remove_pii(text, use_presidio=self.use_presidio)
        self.removed_types |= redaction.types()
        text = redaction.text
        for name in find_names(text):
            text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", "<PERSON>", text)
            self.removed_types.add("PERSON")
        return text

    def literal(self, text: str) -> tuple[str, int]:
        """A string literal from code: known values and detectable PII removed, no guessing."""
        text, count = self._replace_known(text)
        redaction = remove_pii(text, use_presidio=self.use_presidio)
        self.removed_types |= redaction.types()
        return redaction.text, count + len(redaction.findings)
