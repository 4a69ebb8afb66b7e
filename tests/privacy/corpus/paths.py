"""The three sharing paths the corpus is run through, built from the real project code.

- "baseline generate": the miner's reference engine from engines/factory.py (build_engine with
  miner.engine "baseline", no model);
- "llm generate": the factory's "llm" engine (deep solver, model proposer, PatternEngine with a
  router), with a tiny random Llama and the real SmolLM2 tokenizer as the model, so every model
  call happens but answers are noise (the worst case for the clean-output checks);
- "extract_shareable": privacy/pipeline.py on the flat dialogue text.

Each path maps a CorpusLog to an Outcome: what is exposed (the whole result object) and whether
it was refused, with the reason.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.privacy.corpus import CorpusLog

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

PATHS = ("baseline generate", "llm generate", "extract_shareable")
EPSILON = 1.0


@dataclass(frozen=True)
class Outcome:
    exposed: Any  # the result object (GeneratePatternResult, ShareableInsight or None)
    refused: bool
    reason: str = ""
    shared: Any = None  # the LearnedPattern or ShareableInsight, when one was shared


def _generate_outcome(engine, log: CorpusLog) -> Outcome:
    from mycel_subnet.engines.interface import EngineError

    try:
        result = engine.generate_pattern(log.request)
    except EngineError as exc:
        return Outcome(None, True, f"engine error: {exc}")
    pattern = result.generated_pattern
    return Outcome(result, pattern is None, result.refusal_reason or "", pattern)


def baseline_path() -> Callable[[CorpusLog], Outcome]:
    from mycel_subnet.config import load_settings
    from mycel_subnet.engines.factory import build_engine

    engine = build_engine(load_settings({"miner.engine": "baseline"}), warm=False)
    return lambda log: _generate_outcome(engine, log)


def llm_path(seed: int = 0) -> Callable[[CorpusLog], Outcome]:
    """The factory's llm engine, assembled the same way, with the tiny random model."""
    import torch

    from mycel_subnet.engines.pattern_engine import PatternEngine
    from mycel_subnet.engines.solver import DEEP, SolverEngine
    from mycel_subnet.engines.solver.proposer import ModelProposer
    from mycel_subnet.intelligence.llm import Router
    from mycel_subnet.intelligence.llm.transformers_backend import tiny_random_backend

    torch.set_num_threads(1)
    backend = tiny_random_backend(seed=seed)
    backend.load()
    router = Router([backend])
    # no embedder: generate_pattern never uses one, and this saves loading MiniLM twice
    general = PatternEngine(router, None, judge_tokens=8, answer_tokens=8)
    engine = SolverEngine(DEEP, general, name="llm", proposer=ModelProposer(router, 48))
    return lambda log: _generate_outcome(engine, log)


def extract_path(seed: int = 0) -> Callable[[CorpusLog], Outcome]:
    import numpy as np

    from mycel_subnet.privacy.pipeline import extract_shareable

    def run(log: CorpusLog) -> Outcome:
        insight = extract_shareable(
            log.text,
            EPSILON,
            signals={"usage_count": 10.0, "success_rate": 0.9, "rating": 4.0},
            rng=np.random.default_rng(seed),
        )
        if insight is None:
            return Outcome(None, True, "extract_shareable returned None")
        return Outcome(insight, False, "", insight)

    return run


BUILDERS: dict[str, Callable[[], Callable[[CorpusLog], Outcome]]] = {
    "baseline generate": baseline_path,
    "llm generate": llm_path,
    "extract_shareable": extract_path,
}
