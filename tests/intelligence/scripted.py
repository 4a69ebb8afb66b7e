"""A scripted backend for router and retry tests: returns canned answers in order and records
every prompt it was given, so tests can check what was fed back."""

from __future__ import annotations

from mycel_subnet.intelligence.llm.base import BackendError, Generation


class ScriptedBackend:
    def __init__(self, name: str, answers: list[str], *, up: bool = True, fail: bool = False):
        self.name = name
        self.answers = list(answers)
        self.prompts: list[str] = []
        self.up = up
        self.fail = fail

    def available(self) -> bool:
        return self.up

    def generate(self, prompt, *, system=None, max_new_tokens=256, temperature=0.0):
        self.prompts.append(prompt)
        if self.fail:
            raise BackendError(f"{self.name}: simulated failure")
        text = self.answers.pop(0) if self.answers else ""
        return Generation(text=text, tokens_out=len(text.split()), seconds=0.0, backend=self.name)
