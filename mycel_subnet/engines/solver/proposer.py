"""The local model as a proposer: when the program search finds nothing, ask the model to
write the function from the examples, and keep its code only if the sandbox shows it fits
every example and the static analyser finds nothing wrong with it.

The model never decides anything unverified: a wrong or unsafe proposal is dropped. On a CPU
node with the embedded 135M model proposals rarely fit; behind Ollama with a 7-8B code model
they are what reaches the deeper programs the search cannot (see docs/miner.md).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from mycel_subnet.engines.codegen import code_blocks
from mycel_subnet.sandbox import SandboxLimits, SandboxStatus, run_tests

log = logging.getLogger(__name__)

LIMITS = SandboxLimits(cpu_seconds=2.0, wall_seconds=4.0, memory_mb=256)
PROMPT = (
    "Write a Python function `solve(values)` that turns each input list of integers into the "
    "output shown. Use plain Python, no imports. Reply with one ```python code block.\n\n{pairs}"
)


class ModelProposer:
    """Asks a Router for code that fits (input, output) examples; verifies it in the sandbox."""

    def __init__(self, router: Any, max_new_tokens: int = 220) -> None:
        self.router = router
        self.max_new_tokens = max_new_tokens

    def propose(self, examples: list[tuple[list[int], Any]]) -> str | None:
        pairs = "\n".join(f"{json.dumps(x)} -> {json.dumps(y)}" for x, y in examples)
        try:
            text = self.router.generate(
                PROMPT.format(pairs=pairs), max_new_tokens=self.max_new_tokens
            ).text
        except Exception as error:  # no model, a timeout: the search result stands
            log.info("model proposal failed: %s", error)
            return None
        blocks = [b.code for b in code_blocks(text) if b.language in ("", "python", "py")]
        code = blocks[0] if blocks else None
        if not code or "def solve" not in code or not self._fits(code, examples):
            return None
        return code

    @staticmethod
    def _fits(code: str, examples: list[tuple[list[int], Any]]) -> bool:
        from mycel_subnet.safety import analyse_code

        if not analyse_code(code, "python").safe:
            return False
        try:
            result = run_tests(code, "solve", [([x], y) for x, y in examples], limits=LIMITS)
        except ValueError:
            return False
        return result.sandbox.status == SandboxStatus.OK and result.failed == 0
