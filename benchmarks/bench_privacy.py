"""Privacy on the issue-11 corpus (tests/privacy/corpus): per sharing path (baseline generate,
llm generate with a tiny random model, extract_shareable), the leaks the independent judge finds
(count, by kind and by view), refusals (false: a log with a reusable insight; true: a log marked
should_refuse), a utility measure, and the scrubber's throughput with the NER model loaded.
Prints figures; asserts nothing (tests/privacy/test_corpus_leaks.py asserts).

Utility, per shared pattern, averaged over the shared ones:
- content: content words / (content words + slots) over everything shared as text (trigger,
  requirements, template or code or steps); content words have 3+ letters and are not stop
  words, slots are `{var}`, `<var>` and `<KIND>`. A pattern that is mostly holes teaches nothing.
- insight recall: the fraction of the content words of the log's one-line `insight` (written
  by hand: what a good pattern keeps) found in the shared text, compared by their first five
  letters. It rewards keeping the approach, not the instance.
- code: for logs with public examples (the nine validator/normaliser logs), whether the shared
  pattern is a code template and how many of the examples it passes in the real sandbox.

Throughput: mycel_subnet.privacy.scrubber.InteractionScrubber(use_ner=True) learning and then
scrubbing every turn (code blocks with their language) of every log; the first pass loads the
models, the second is timed (KiB of log text per second).

Run: .venv/bin/python benchmarks/bench_privacy.py [--limit N] [--skip-llm] [--paths ...]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.privacy.corpus import CorpusLog, judge, load_corpus
from tests.privacy.corpus.paths import BUILDERS, PATHS, Outcome

_TOKEN = re.compile(r"<[A-Za-z_][A-Za-z0-9_]*>|\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z][A-Za-z'-]+")
_STOP = frozenset(
    """the and for with from that this all are was you our your not but can has have its into
    than then them they what when which will would about there their these those been were
    also only just very more most such each some any""".split()  # noqa: SIM905
)
_FENCE = re.compile(r"```([\w+-]*)\n(.*?)```", re.S)


def shared_text(shared) -> str:
    """Everything a shared pattern or insight says, as one text."""
    if shared is None:
        return ""
    if hasattr(shared, "solution"):
        sol = shared.solution
        parts = [shared.trigger, *shared.context_requirements]
        parts.append(
            getattr(sol, "template", None)
            or getattr(sol, "code", None)
            or "\n".join(s.content for s in getattr(sol, "steps", []))
        )
        return "\n".join(p for p in parts if p)
    return shared.template


def content_utility(text: str) -> float:
    tokens = _TOKEN.findall(text)
    slots = sum(1 for t in tokens if t[0] in "<{")
    words = [t for t in tokens if t[0] not in "<{" and len(t) >= 3 and t.lower() not in _STOP]
    return len(words) / (len(words) + slots) if words else 0.0


def insight_recall(log: CorpusLog, text: str) -> float:
    wanted = {
        w.lower()[:5] for w in _TOKEN.findall(log.insight) if len(w) >= 3 and w[0] not in "<{"
    } - {w[:5] for w in _STOP}
    have = {w.lower()[:5] for w in _TOKEN.findall(text)}
    return len(wanted & have) / len(wanted) if wanted else 1.0


def code_check(log: CorpusLog, shared) -> str:
    """'pass k/n', 'fail k/n', or why not run (no code template)."""
    from mycel_subnet.sandbox import run_tests

    solution = getattr(shared, "solution", None)
    if getattr(solution, "kind", None) != "code_template":
        return "no code template"
    entry = solution.entrypoint or log.entrypoint
    run = run_tests(solution.code, entry, [(list(a), e) for a, e in log.examples])
    passed = round(run.pass_rate * len(log.examples))
    return f"{'pass' if passed == len(log.examples) else 'fail'} {passed}/{len(log.examples)}"


def _is_pattern(shared) -> bool:
    return hasattr(shared, "solution")


def report_path(path: str, logs: list[CorpusLog], outcomes: list[Outcome], seconds: float):
    leaks = [
        leak for log, out in zip(logs, outcomes, strict=True) for leak in judge(log, out.exposed)
    ]
    items = sum(len(log.items) for log in logs)
    false = [
        log.id
        for log, out in zip(logs, outcomes, strict=True)
        if out.refused and not log.should_refuse
    ]
    true = [
        log.id for log, out in zip(logs, outcomes, strict=True) if out.refused and log.should_refuse
    ]
    marked = sum(log.should_refuse for log in logs)
    shared = [
        (log, out.shared) for log, out in zip(logs, outcomes, strict=True) if out.shared is not None
    ]
    print(
        f"\n== {path}  ({len(logs)} logs, {items} planted items, {seconds:.1f} s, "
        f"{seconds / len(logs) * 1000:.0f} ms/log)"
    )
    print(f"leaks: {len(leaks)} items in {len({x.log_id for x in leaks})} logs")
    if leaks:
        print(
            "  by kind: "
            + ", ".join(f"{k} {n}" for k, n in Counter(x.kind for x in leaks).most_common())
        )
        print(
            "  by view: "
            + ", ".join(
                f"{k} {n}" for k, n in Counter(x.view.split(":")[0] for x in leaks).most_common()
            )
        )
    print(
        f"refusals: false {len(false)} of {len(logs) - marked} "
        f"({len(false) / max(1, len(logs) - marked):.1%}), true {len(true)} of {marked}"
    )
    if false:
        reasons = Counter(
            re.sub(r"\(.*", "", out.reason)[:70].strip()
            for log, out in zip(logs, outcomes, strict=True)
            if out.refused and not log.should_refuse
        )
        for reason, n in reasons.most_common(6):
            print(f"  {n} x {reason}")
    if shared:
        texts = [(log, shared_text(s)) for log, s in shared]
        kinds = Counter(getattr(getattr(s, "solution", None), "kind", "insight") for _, s in shared)
        print(
            f"utility (shared {len(shared)}: "
            + ", ".join(f"{k} {n}" for k, n in kinds.items())
            + f"): content {statistics.mean(content_utility(t) for _, t in texts):.3f}, "
            f"insight recall {statistics.mean(insight_recall(lg, t) for lg, t in texts):.3f}"
        )
    checks = [(log, code_check(log, s)) for log, s in shared if log.examples and _is_pattern(s)]
    if checks:
        ok = sum(c.startswith("pass") for _, c in checks)
        print(
            f"code on public examples: {ok} of {sum(bool(log.examples) for log in logs)} logs pass "
            "(" + "; ".join(f"{log.id} {c}" for log, c in checks) + ")"
        )


def scrub_throughput(logs: list[CorpusLog]) -> None:
    try:
        from mycel_subnet.privacy.scrubber import InteractionScrubber
    except ImportError as exc:
        print(f"\nscrub throughput: no InteractionScrubber here ({exc})")
        return

    def one_pass() -> None:
        for log in logs:
            scrubber = InteractionScrubber(use_ner=True)
            pieces = []
            for _, content in log.turns:
                pieces.append((_FENCE.sub("\n", content), None))
                pieces += [(code, lang.lower()) for lang, code in _FENCE.findall(content)]
            for text, lang in pieces:
                scrubber.learn(text, code_language=lang)
            for text, lang in pieces:
                scrubber.scrub(text, code_language=lang)

    kib = sum(len(log.text.encode()) for log in logs) / 1024
    start = time.perf_counter()
    one_pass()
    cold = time.perf_counter() - start
    start = time.perf_counter()
    one_pass()
    warm = time.perf_counter() - start
    print(
        f"\nscrub throughput (InteractionScrubber, NER on, learn + scrub every turn): "
        f"{kib:.1f} KiB of log text; cold pass {cold:.2f} s, warm pass {warm:.2f} s = "
        f"{kib / warm:.1f} KiB/s warm"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="only the first N logs (0: all)")
    parser.add_argument("--skip-llm", action="store_true", help="leave out the llm path")
    parser.add_argument("--paths", nargs="*", choices=PATHS, default=list(PATHS))
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    logs = list(load_corpus())
    if args.limit:
        logs = logs[: args.limit]
    kinds = {kind for log in logs for kind, _ in log.items}
    print(
        f"corpus: {len(logs)} logs, {sum(len(x.items) for x in logs)} items, {len(kinds)} kinds, "
        f"{sum(x.should_refuse for x in logs)} marked should_refuse"
    )
    for path in args.paths:
        if args.skip_llm and path == "llm generate":
            continue
        run = BUILDERS[path]()
        start = time.perf_counter()
        outcomes = [run(log) for log in logs]
        report_path(path, logs, outcomes, time.perf_counter() - start)
    if not args.skip_throughput:
        scrub_throughput(logs)


if __name__ == "__main__":
    main()
