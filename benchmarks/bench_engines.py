"""Benchmark the miner's engines on CPU: evaluate / generate / inference latency with the
deterministic baseline (MiniLM embeddings, real sandbox, real privacy pipeline) and with the
embedded SmolLM2-135M-Instruct through the router (one torch thread), plus the model's tokens
per second inside those requests. Prints figures; asserts nothing.

Run: .venv/bin/python benchmarks/bench_engines.py [--runs 5] [--threads 1] [--skip-llm]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from mycel_subnet.engines import PatternEngine
from mycel_subnet.intelligence.embeddings import MiniLMEmbedder
from mycel_subnet.intelligence.llm import Generation, Router
from protocol import (
    CodeExample,
    CodeTemplate,
    EvaluatePatternRequest,
    GeneratePatternRequest,
    InferenceRequest,
    InteractionLog,
    LearnedPattern,
    PromptTemplate,
    TestContext,
    Turn,
)


def _pattern(trigger: str, solution, domain: str) -> LearnedPattern:
    return LearnedPattern(
        creator="bench.test",
        created_at=datetime.now(UTC),
        trigger=trigger,
        solution=solution,
        domain=domain,
    )


ADD = _pattern(
    "Add two numbers together and return their sum",
    CodeTemplate(language="python", code="def add(a, b):\n    return a + b\n", entrypoint="add"),
    "coding",
)
SUMMARY = _pattern(
    "Summarise a customer support ticket",
    PromptTemplate(
        template="Summarise this ticket in one sentence: {ticket}", variables=["ticket"]
    ),
    "support",
)
DECOYS = [
    _pattern(
        f"Decoy task number {i} about {topic}",
        CodeTemplate(language="python", code=f"def f(x):\n    return x * {i + 3}\n"),
        "misc",
    )
    for i, topic in enumerate(["weather", "poems", "recipes", "travel", "music"])
]
EVALUATE = EvaluatePatternRequest(
    pattern=ADD,
    test_context=TestContext(
        query="What is the sum of 2 and 3?",
        domain="coding",
        examples=[CodeExample(args=[2, 3], expected=5), CodeExample(args=[1, 1], expected=2)],
    ),
)
GENERATE = GeneratePatternRequest(
    domain="finance",
    interaction_log=InteractionLog(
        turns=[
            Turn(
                role="user",
                content="Hi, I'm Dana Reyes (dana@example.com). Write a Python function that "
                "sums the invoices over $5,000 for Acme Corp.",
            ),
            Turn(
                role="assistant",
                content="```python\ndef total_over(invoices, threshold=5000):\n"
                "    return sum(i for i in invoices if i > threshold)\n```\nIt filters and sums.",
            ),
        ]
    ),
)
INFER_CODE = InferenceRequest(
    query="Add these two numbers", context="args: [40, 2]", available_patterns=[*DECOYS, ADD]
)
INFER_PROMPT = InferenceRequest(
    query="Summarise this support ticket",
    context="ticket: The app crashes when I log in with SSO.",
    available_patterns=[*DECOYS, SUMMARY],
)


class Recording:
    """Wraps a backend and keeps every Generation, to report tokens per second."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.generations: list[Generation] = []

    def available(self) -> bool:
        return self.inner.available()

    def generate(self, prompt, **kwargs) -> Generation:
        gen = self.inner.generate(prompt, **kwargs)
        self.generations.append(gen)
        return gen


def _time(label: str, call: Callable[[], object], runs: int) -> None:
    call()  # warm-up: model loads, presidio, first sandbox process
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    times.sort()
    p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
    print(
        f"  {label:<28} median {statistics.median(times) * 1000:8.1f} ms   p90 {p90 * 1000:8.1f} ms"
    )


def bench(engine: PatternEngine, runs: int) -> None:
    _time("evaluate (code, 2 examples)", lambda: engine.evaluate_pattern(EVALUATE), runs)
    _time("generate (code log, PII)", lambda: engine.generate_pattern(GENERATE), runs)
    _time("inference (code, 6 offered)", lambda: engine.inference(INFER_CODE), runs)
    _time("inference (prompt, 6 offered)", lambda: engine.inference(INFER_PROMPT), runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-llm", action="store_true")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), CPU, {args.runs} runs each")
    embedder = MiniLMEmbedder()
    print("baseline engine (no model):")
    bench(PatternEngine(None, embedder), args.runs)
    if args.skip_llm:
        return
    from mycel_subnet.intelligence.llm.transformers_backend import TransformersBackend

    backend = TransformersBackend(device="cpu", torch_threads=args.threads)
    started = time.perf_counter()
    backend.load()
    print(f"SmolLM2-135M load: {time.perf_counter() - started:.1f} s")
    recording = Recording(backend)
    engine = PatternEngine(Router([recording]), embedder, judge_tokens=64, answer_tokens=64)
    print("llm engine (embedded SmolLM2, judge 64 / answer 64 new tokens):")
    bench(engine, args.runs)
    gens = recording.generations
    tokens, seconds = sum(g.tokens_out for g in gens), sum(g.seconds for g in gens)
    print(
        f"  model: {len(gens)} generations, {tokens} tokens in {seconds:.1f} s "
        f"-> {tokens / seconds if seconds else 0:.1f} tok/s (prompt processing included)"
    )
    verdict = engine.evaluate_pattern(EVALUATE).evaluation_result
    print(f"  sample evaluate: {verdict.relevance}/{verdict.quality}/{verdict.safety}")
    print(f"    {verdict.rationale[:300]}")


if __name__ == "__main__":
    main()
