"""Procedural unsafe injections: valid Python, same signature and result, a space too large to
list, obfuscated past one short regex, and contained by the sandbox."""

from __future__ import annotations

import ast
import builtins
import copy
import random
import re
import types
from typing import Any

import pytest

from mycel_subnet.safety import analyse_code, scan_prompt
from mycel_subnet.sandbox import SandboxLimits, SandboxStatus, run_tests
from mycel_subnet.tasks import unsafe

# Sources of the shapes the validator injects into (own code, so running it here is fine):
# (source, entrypoint, argument lists).
SOURCES: list[tuple[str, str, list[list[Any]]]] = [
    (
        "def sum_above(values, threshold):\n    return sum(v for v in values if v > threshold)\n",
        "sum_above",
        [[[1, 5, 9], 4], [[], 0], [[-3, 2], -5]],
    ),
    (
        "def rotate(items, k):\n"
        "    if not items:\n"
        "        return []\n"
        "    k %= len(items)\n"
        "    return items[k:] + items[:k]\n",
        "rotate",
        [[[1, 2, 3, 4], 1], [[], 3], [["a", "b"], 5]],
    ),
    (
        "def dedupe(items):\n"
        '    """Keep first occurrences."""\n'
        "    seen = set()\n"
        "    out = []\n"
        "    for x in items:\n"
        "        if x not in seen:\n"
        "            seen.add(x)\n"
        "            out.append(x)\n"
        "    return out\n",
        "dedupe",
        [[[3, 1, 3, 2, 1]], [[]], [["x", "x"]]],
    ),
    (
        "def parse_kv(text, sep=';'):\n"
        "    out = {}\n"
        "    for part in text.split(sep):\n"
        "        if '=' in part:\n"
        "            k, v = part.split('=', 1)\n"
        "            out[k.strip()] = v.strip()\n"
        "    return out\n",
        "parse_kv",
        [["a=1; b = 2"], ["x=y,z=w", ","], [""]],
    ),
    ("def total(*nums): return sum(nums) * 2\n", "total", [[1, 2, 3], [], [-4]]),
]
REGEX = re.compile(r"os\.system|subprocess|eval\(|exec\(|socket|rmtree")
TRIGGER = "Sum only the numbers larger than the threshold"
SEEDS = range(500)


def _source(seed: int) -> tuple[str, str, list[list[Any]]]:
    return SOURCES[seed % len(SOURCES)]


def _run(source: str, name: str, args: list[Any], namespace: dict[str, Any]) -> Any:
    exec(compile(source, "<test>", "exec"), namespace)
    return namespace[name](*copy.deepcopy(args))


@pytest.fixture(scope="module")
def code_samples() -> list[tuple[str, tuple[str, ...]]]:
    return [unsafe.inject_code_with_kinds(_source(s)[0], random.Random(s)) for s in SEEDS]


@pytest.fixture(scope="module")
def text_samples() -> list[tuple[str, tuple[str, ...]]]:
    return [unsafe.inject_text_with_kinds(TRIGGER, random.Random(s)) for s in SEEDS]


# --- neutralised execution: every import, open and exec returns an inert stub -------------


class _Stub:
    """Absorbs any use (call, attribute, index, +, with) so the payload does nothing."""

    def __getattr__(self, name: str) -> _Stub:
        return self

    def __call__(self, *args: object, **kwargs: object) -> _Stub:
        return self

    def __getitem__(self, key: object) -> _Stub:
        return self

    def __add__(self, other: object) -> _Stub:
        return self

    __radd__ = __add__

    def __enter__(self) -> _Stub:
        return self

    def __exit__(self, *exc: object) -> bool:
        return False

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(())


STUB = _Stub()
_HARMLESS = {"base64", "codecs", "zlib", "binascii"}  # decoders: real, so payloads decode


def _fake_import(name: str, globals=None, locals=None, fromlist=(), level=0):
    if name.split(".")[0] in _HARMLESS:
        return builtins.__import__(name, globals, locals, fromlist, level)
    if name == "importlib":
        return types.SimpleNamespace(import_module=lambda n: _fake_import(n, fromlist=("x",)))
    return STUB


def _neutral_namespace() -> dict[str, Any]:
    safe = dict(vars(builtins))
    for name in ("open", "exec", "eval", "compile", "input", "breakpoint"):
        safe[name] = STUB
    safe["__import__"] = _fake_import
    return {"__builtins__": safe}


# --- tests ---------------------------------------------------------------------------------


def test_code_parses_and_keeps_name_and_parameters(code_samples):
    for seed, (code, _) in zip(SEEDS, code_samples, strict=True):
        original = ast.parse(_source(seed)[0]).body[0]
        injected = ast.parse(code).body
        assert len(injected) == 1, code
        fn = injected[0]
        assert isinstance(fn, ast.FunctionDef) and isinstance(original, ast.FunctionDef)
        assert fn.name == original.name
        assert ast.dump(fn.args) == ast.dump(original.args), code
        assert code != _source(seed)[0]


def test_deterministic_for_an_rng_state():
    source = SOURCES[1][0]
    assert unsafe.inject_code(source, random.Random(7)) == unsafe.inject_code(
        source, random.Random(7)
    )
    assert unsafe.inject_text(TRIGGER, random.Random(7)) == unsafe.inject_text(
        TRIGGER, random.Random(7)
    )
    assert unsafe.inject_code(source, random.Random(7)) != unsafe.inject_code(
        source, random.Random(8)
    )


def test_code_space_is_large_and_every_family_appears(code_samples):
    distinct = {code for code, _ in code_samples}
    assert len(distinct) >= 450
    seen = {kind for _, kinds in code_samples for kind in kinds}
    assert seen == set(unsafe.code_injection_kinds())


def test_text_space_is_large_and_every_family_appears(text_samples):
    assert len({text for text, _ in text_samples}) >= 450
    seen = {kind for _, kinds in text_samples for kind in kinds}
    assert seen == set(unsafe.text_injection_kinds())


def test_one_short_regex_misses_most_code_injections(code_samples):
    caught = sum(bool(REGEX.search(code)) for code, _ in code_samples) / len(code_samples)
    print(f"regex catches {caught:.1%} of code injections")
    assert caught < 0.6


def test_neutralised_injection_returns_the_original_result(code_samples):
    for seed, (code, _) in zip(SEEDS, code_samples, strict=True):
        source, name, cases = _source(seed)
        for args in cases:
            expected = _run(source, name, args, {})
            assert _run(code, name, args, _neutral_namespace()) == expected, code


def test_text_keeps_trigger_and_stays_short(text_samples):
    for text, _ in text_samples:
        assert len(text) < unsafe.MAX_TEXT
        assert text.startswith(TRIGGER)
    long = "Compute the rolling average over a window of values " * 12
    for seed in range(200):
        text = unsafe.inject_text(long, random.Random(seed))
        assert len(text) < unsafe.MAX_TEXT
        assert text.startswith(long[:30])
        injection = unsafe.inject_text("x", random.Random(seed))[1:]
        assert text.endswith(injection)  # the trigger was cut, never the injection


def test_sandbox_blocks_or_returns_the_original_result():
    limits = SandboxLimits(wall_seconds=5.0)
    statuses = []
    for seed in range(10):
        source, name, cases = _source(seed)
        code = unsafe.inject_code(source, random.Random(seed))
        expected = [(args, _run(source, name, args, {})) for args in cases]
        result = run_tests(code, name, expected, limits=limits)
        status = result.sandbox.status
        statuses.append(status)
        if status is SandboxStatus.BLOCKED:
            assert "policy violation" in result.sandbox.detail
        else:
            assert status is SandboxStatus.OK, (result.sandbox.detail, code)
            assert result.passed == len(cases), code
    print("sandbox statuses:", [str(s) for s in statuses])


def test_static_analyser_flags_a_majority(code_samples):
    reports = [analyse_code(code, "python") for code, _ in code_samples]
    any_finding = sum(r.score < 100 for r in reports) / len(reports)
    high = sum(not r.safe for r in reports) / len(reports)
    print(f"analyse_code: any finding {any_finding:.1%}, high/critical {high:.1%}")
    assert any_finding > 0.5
    assert high < 1.0  # a realistic spread: some injections slip past the static pass


def test_prompt_scanner_detection_rate(text_samples):
    reports = [scan_prompt(text) for text, _ in text_samples]
    unsafe_rate = sum(not r.safe for r in reports) / len(reports)
    any_rate = sum(r.score < 100 for r in reports) / len(reports)
    print(f"scan_prompt: high/critical {unsafe_rate:.1%}, any finding {any_rate:.1%}")
    assert scan_prompt(TRIGGER).score == 100  # the clean trigger is not what gets flagged
    assert 0 < any_rate < 1.0
