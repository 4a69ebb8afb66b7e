"""How much work a solver engine does: the rungs of the capability ladder.

The three shipped budgets differ only in compute and method, not in knowledge: all read the
same public task space. `REFERENCE` is what the validator runs to measure the floor (small
random test sets, structural comparison, a shallow program search); `SEARCH` tests edges and
the constants it reads in the code, compares programs by testing and searches 4x more
program states; `DEEP` also folds constant expressions and searches 15x more again. The
confidences are what each rung's evidence is worth on the public tier mix (calibrated by
`benchmarks/bench_incentive.py`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    name: str
    random_tests: int  # random inputs when testing a pattern's code against its trigger
    edge_tests: int  # inputs aimed at the parsed program's comparison edges
    mine_constants: bool  # read integer literals in the code and test inputs that reach them
    fold_constants: bool  # also evaluate constant expressions (`19 * 31`) in the code
    equivalence_tests: int  # 0: compare trigger and query programs structurally
    residual_check: bool  # flag trigger text that says more than the program it states
    synth_depth: int  # stages in the program search
    synth_states: int  # distinct intermediate states the search may visit
    synth_clamp: bool  # include clamp stages in the search
    synth_seconds: float  # wall-clock guard for a loaded machine: stop searching after this
    # calibrated confidences (0-100)
    relevant_yes: int
    relevant_no: int
    quality_pass: int
    quality_fail: int
    safe_clean: int
    safe_flagged: int


REFERENCE = Budget(
    "reference", random_tests=12, edge_tests=0, mine_constants=False, fold_constants=False,
    equivalence_tests=0, residual_check=False, synth_depth=2, synth_states=2_500,
    synth_clamp=False, synth_seconds=2.0, relevant_yes=95, relevant_no=20, quality_pass=54,
    quality_fail=3, safe_clean=75, safe_flagged=5,
)  # fmt: skip
SEARCH = Budget(
    "search", random_tests=60, edge_tests=60, mine_constants=True, fold_constants=False,
    equivalence_tests=200, residual_check=True, synth_depth=3, synth_states=10_000,
    synth_clamp=False, synth_seconds=3.0, relevant_yes=94, relevant_no=6, quality_pass=74,
    quality_fail=6, safe_clean=91, safe_flagged=7,
)  # fmt: skip
DEEP = Budget(
    "deep", random_tests=150, edge_tests=150, mine_constants=True, fold_constants=True,
    equivalence_tests=600, residual_check=True, synth_depth=3, synth_states=150_000,
    synth_clamp=False, synth_seconds=5.0, relevant_yes=99, relevant_no=1, quality_pass=96,
    quality_fail=1, safe_clean=97, safe_flagged=2,
)  # fmt: skip
BUDGETS = {b.name: b for b in (REFERENCE, SEARCH, DEEP)}
