"""Dishonest engines for bench_incentive.py: the cheapest ways to try to earn without the work.

- AnswerKeyEngine imports the validator's own modules and tries to look answers up: it
  rebuilds rounds from every seed it can guess (zero, small integers, hashes of the request
  ids and of the clock) and, on a match, reads the truth out of the scorer's closure; where
  that fails it falls back to lookups: it memorises the log's examples as a table and answers
  from the nearest worked example. It never runs the miner's real work (no testing, no search).
- HeuristicEngine is a structural heuristic with no model and no sandbox: words and numbers
  shared by trigger and query, the comparison written in the code against the one the trigger
  names, a blacklist of dangerous names and injection words, a handful of one-step transforms
  for generation, and the offered pattern whose trigger shares the most numbers with the
  examples.

They live here, not in the package, because they import the validator (an engine must not).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from datetime import UTC, datetime
from typing import Any

from mycel_subnet.engines.solver.engine import log_examples
from mycel_subnet.validator.challenges import build_round
from mycel_subnet.validator.challenges import evaluate as evaluate_challenges
from protocol import (
    CodeTemplate,
    EvaluatePatternRequest,
    EvaluatePatternResult,
    EvaluationResult,
    GeneratePatternRequest,
    GeneratePatternResult,
    InferenceRequest,
    InferenceResult,
    LearnedPattern,
)

CREATOR = "cheat.mycel.test"
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_LIST = re.compile(r"\[[-\d,\s]*\]")


def _evaluation(r: int, q: int, s: int) -> EvaluatePatternResult:
    return EvaluatePatternResult(
        evaluation_result=EvaluationResult(relevance=r, quality=q, safety=s, rationale="")
    )


def _table_code(examples: list[tuple[list[int], Any]]) -> str:
    table = {json.dumps(x): y for x, y in examples}
    fallback = examples[-1][1] if examples else 0
    return (
        "import json\n\n"
        f"TABLE = {json.dumps(table)}\n\n"
        "def solve(values):\n"
        f"    found = TABLE.get(json.dumps(values), {json.dumps(fallback)})\n"
        "    return json.loads(json.dumps(found))\n"
    )


def _pattern(code: str, domain: str) -> LearnedPattern:
    return LearnedPattern(
        creator=CREATOR,
        created_at=_EPOCH,
        trigger="Process a list of integers as before",
        solution=CodeTemplate(language="python", code=code, entrypoint="solve"),
        domain=domain,
    )


def _nearest_output(context: str, query: str) -> str:
    pairs = re.findall(r"(\[[-\d,\s]*\])\s*->\s*(\[[-\d,\s]*\]|-?\d+)", context)
    target = _LIST.findall(query)
    if not pairs:
        return "0"
    if not target:
        return pairs[0][1]
    wanted = set(json.loads(target[0]))
    best = max(pairs, key=lambda p: len(wanted & set(json.loads(p[0]))))
    return best[1]


class AnswerKeyEngine:
    """Looks answers up with the validator's own modules (see the module docstring)."""

    name = "answer-key"

    def __init__(self, guesses: int = 24, uids: int = 16) -> None:
        self.guesses = guesses
        self.uids = uids
        self.hits = 0
        self._key: dict[str, object] | None = None

    def _candidate_seeds(self) -> list[str]:
        now = int(time.time())
        seeds = [f"{i:032x}" for i in range(self.guesses)]
        seeds += [hashlib.sha256(str(now - k).encode()).hexdigest()[:32] for k in range(8)]
        return seeds

    def _answer_key(self) -> dict[str, object]:
        """Every evaluate request of every guessable round, with its truth from the scorer."""
        if self._key is None:
            self._key = {}
            for seed in self._candidate_seeds():
                round_ = build_round(seed)
                for uid in range(-1, self.uids):
                    for challenge in (*round_.private(uid), *round_.shared):
                        if challenge.task != "evaluate_pattern":
                            continue
                        cells = [c.cell_contents for c in challenge.scorer.__closure__ or ()]
                        truths = next(c for c in cells if isinstance(c, list))
                        for request, truth in zip(challenge.requests, truths, strict=True):
                            self._key[request.model_dump_json()] = truth
        return self._key

    def _lookup_evaluation(self, request: EvaluatePatternRequest) -> EvaluatePatternResult | None:
        """Rebuild rounds from guessable seeds; a matching request's truth is in its scorer."""
        truth = self._answer_key().get(request.model_dump_json())
        if truth is None:
            return None
        self.hits += 1
        pick = {True: 100, False: 0}
        return _evaluation(pick[truth.relevance], pick[truth.quality], pick[truth.safety])

    def evaluate_pattern(self, request: EvaluatePatternRequest) -> EvaluatePatternResult:
        found = self._lookup_evaluation(request)
        if found is not None:
            return found
        # no key: the validator's own brier_skill says a constant 50 is the safest guess
        assert evaluate_challenges.brier_skill(50, True) == 0.0
        return _evaluation(50, 50, 50)

    def generate_pattern(self, request: GeneratePatternRequest) -> GeneratePatternResult:
        examples = log_examples(request)
        return GeneratePatternResult(generated_pattern=_pattern(_table_code(examples), "data"))

    def inference(self, request: InferenceRequest) -> InferenceResult:
        return InferenceResult(response=_nearest_output(request.context, request.query))


_COMPARE_WORDS = {
    ">": ("greater than", "above", "or less"),
    ">=": ("at least", "below", "or more"),
    "<": ("less than", "below", "or more"),
    "<=": ("at most", "above", "or less"),
}
_DANGER = re.compile(
    r"import|__|exec|eval|compile|getattr|open\(|os\.|socket|subprocess|base64|pickle|marshal|"
    r"ctypes|codecs|urllib|http|system|popen|remove|rmtree|environ"
)
_INJECTION = re.compile(
    r"ignore|disregard|instruction|system prompt|password|credential|api key|mnemonic|send|"
    r"rate this|score this|administrator|admin|disable|override|shell|run the command|ai:",
    re.IGNORECASE,
)


def _numbers(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"-?\d+", text)}


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


class HeuristicEngine:
    """A structural heuristic with no model and no sandbox (see the module docstring)."""

    name = "heuristic"

    def evaluate_pattern(self, request: EvaluatePatternRequest) -> EvaluatePatternResult:
        trigger, query = request.pattern.trigger, request.test_context.query
        code = getattr(request.pattern.solution, "code", "")
        same_numbers = _numbers(trigger) == _numbers(query)
        overlap = len(_words(trigger) & _words(query)) / max(1, len(_words(trigger)))
        relevance = 80 if same_numbers else 25
        relevance = min(95, relevance + int(20 * (overlap - 0.5)))
        quality = 60
        for op, words in _COMPARE_WORDS.items():
            if f"x {op} " in code and not any(w in trigger for w in words):
                quality = 30
        if re.search(r"\d{4,}", code):
            quality = min(quality, 45)
        body = code.split("\n", 1)[1] if "\n" in code else code
        unsafe = bool(_DANGER.search(body)) or bool(_INJECTION.search(trigger))
        return _evaluation(relevance, quality, 10 if unsafe else 80)

    def generate_pattern(self, request: GeneratePatternRequest) -> GeneratePatternResult:
        examples = log_examples(request)
        transforms = {
            "sorted(values)": sorted, "values[::-1]": lambda v: v[::-1], "sum(values)": sum,
            "len(values)": len, "max(values) if values else 0": lambda v: max(v) if v else 0,
            "min(values) if values else 0": lambda v: min(v) if v else 0,
            "[x for x in values if x > 0]": lambda v: [x for x in v if x > 0],
            "[x * 2 for x in values]": lambda v: [x * 2 for x in v],
        }  # fmt: skip
        best, best_hits = "values", -1
        for expr, fn in transforms.items():
            hits = sum(fn(list(x)) == y for x, y in examples)
            if hits > best_hits:
                best, best_hits = expr, hits
        code = f"def solve(values):\n    return {best}\n"
        return GeneratePatternResult(generated_pattern=_pattern(code, request.domain))

    def inference(self, request: InferenceRequest) -> InferenceResult:
        shown = _numbers(request.context)
        best = max(
            request.available_patterns,
            key=lambda p: len(_numbers(p.trigger) & shown),
            default=None,
        )
        used = [best.id] if best is not None and best.id else []
        return InferenceResult(
            response=_nearest_output(request.context, request.query), patterns_used=used
        )
