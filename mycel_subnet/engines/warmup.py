"""Warm an engine before the miner starts listening.

The baseline loads its embedder, the PII analyser and the sandbox lazily; done on the first
validator request, that costs seconds and the request times out. One small request of each type
at start moves the cost to start-up, where the devnet and operators wait for it anyway.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from mycel_subnet.engines.interface import EngineError, MinerEngine
from protocol import (
    CodeExample,
    CodeTemplate,
    EvaluatePatternRequest,
    GeneratePatternRequest,
    InferenceRequest,
    InteractionLog,
    LearnedPattern,
    TestContext,
    Turn,
)

log = logging.getLogger(__name__)

_PATTERN = LearnedPattern(
    creator="warmup.mycel.test",
    created_at=datetime(2026, 1, 1, tzinfo=UTC),
    trigger="Add two numbers and return their sum",
    solution=CodeTemplate(
        language="python", code="def add(a, b):\n    return a + b\n", entrypoint="add"
    ),
    domain="coding",
)


def warm_up(engine: MinerEngine) -> float:
    """Run one request of each type; returns the seconds it took. Failures are only logged."""
    started = time.perf_counter()
    requests = [
        lambda: engine.evaluate_pattern(
            EvaluatePatternRequest(
                pattern=_PATTERN,
                test_context=TestContext(
                    query="add 2 and 3", examples=[CodeExample(args=[2, 3], expected=5)]
                ),
            )
        ),
        lambda: engine.generate_pattern(
            GeneratePatternRequest(
                interaction_log=InteractionLog(
                    turns=[
                        Turn(role="user", content="Hi, I'm Dana (dana@example.com). Add 2 and 3."),
                        Turn(role="assistant", content="def add(a, b):\n    return a + b\n"),
                    ]
                ),
                domain="coding",
            )
        ),
        lambda: engine.inference(
            InferenceRequest(query="add these numbers", context="args: [2, 3]",
                             available_patterns=[_PATTERN])
        ),
    ]  # fmt: skip
    for run in requests:
        try:
            run()
        except EngineError as error:  # a warm-up answer may legitimately be a refusal
            log.debug("warm-up request refused: %s", error)
    took = time.perf_counter() - started
    log.info("engine %s warmed up in %.1f s", engine.name, took)
    return took
