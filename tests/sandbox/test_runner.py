"""Behaviour of run_python / run_tests on benign and faulty templates (real processes)."""

import pytest

from mycel_subnet.sandbox import SandboxLimits, SandboxStatus, run_python, run_tests
from mycel_subnet.sandbox.isolation import rlimit_pairs

LIMITS = SandboxLimits(cpu_seconds=1.0, wall_seconds=2.0)


def test_entrypoint_called_with_json_args():
    result = run_python(
        "def add(a, b):\n    return {'sum': a + b}", entrypoint="add", args_json=[2, 3]
    )
    assert result.status is SandboxStatus.OK
    assert result.returned == {"sum": 5}
    assert result.exit_code == 0


def test_single_non_list_argument_is_passed_as_one_arg():
    result = run_python(
        "def keys(d):\n    return sorted(d)", entrypoint="keys", args_json={"b": 1, "a": 2}
    )
    assert result.returned == ["a", "b"]


def test_stdout_and_stderr_captured():
    result = run_python("import sys\nprint('out')\nprint('err', file=sys.stderr)")
    assert result.status is SandboxStatus.OK
    assert result.stdout == "out\n" and result.stderr == "err\n"


def test_exception_is_reported_with_type_and_message():
    result = run_python("def f():\n    raise KeyError('nope')", entrypoint="f")
    assert result.status is SandboxStatus.EXCEPTION
    assert result.detail.startswith("KeyError") and "nope" in result.detail
    assert result.returned is None


def test_syntax_error_is_an_exception():
    result = run_python("def f(:\n  pass")
    assert result.status is SandboxStatus.EXCEPTION and "SyntaxError" in result.detail


def test_missing_entrypoint():
    result = run_python("x = 1", entrypoint="missing")
    assert result.status is SandboxStatus.EXCEPTION and "missing" in result.detail


def test_non_json_return_value_is_an_exception():
    result = run_python("def f():\n    return object()", entrypoint="f")
    assert result.status is SandboxStatus.EXCEPTION and "JSON" in result.detail


def test_sys_exit_zero_is_ok_and_nonzero_is_exception():
    assert run_python("import sys; sys.exit(0)").status is SandboxStatus.OK
    assert run_python("import sys; sys.exit(2)").status is SandboxStatus.EXCEPTION


def test_run_tests_compares_in_parent():
    code = "def sq(x):\n    if x == 5:\n        raise ValueError('five')\n    return x * x\n"
    result = run_tests(code, "sq", [(2, 4), (3, 9), (4, 15), (5, 25)], limits=LIMITS)
    assert result.sandbox.status is SandboxStatus.OK
    assert [c.passed for c in result.cases] == [True, True, False, False]
    assert result.cases[2].actual == 16
    assert "ValueError" in result.cases[3].error
    assert (result.passed, result.failed) == (2, 2)


def test_run_tests_equality_cannot_be_faked():
    """An object whose __eq__ always says True cannot cross the JSON boundary."""
    code = (
        "class Liar:\n    def __eq__(self, other):\n        return True\n"
        "def f(x):\n    return Liar()\n"
    )
    result = run_tests(code, "f", [(1, 1)], limits=LIMITS)
    assert result.passed == 0


def test_run_tests_all_cases_fail_when_policy_broken():
    code = "import os\ndef f(x):\n    if x == 2:\n        os.system('id')\n    return x\n"
    result = run_tests(code, "f", [(1, 1), (2, 2), (3, 3)], limits=LIMITS)
    assert result.sandbox.status is SandboxStatus.BLOCKED
    assert result.passed == 0


def test_run_tests_timeout_marks_cases_not_run():
    code = "def f(x):\n    while True:\n        pass\n"
    result = run_tests(code, "f", [(1, 1)], limits=LIMITS)
    assert result.sandbox.status is SandboxStatus.TIMEOUT
    assert result.cases[0].error.startswith("not run")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cpu_seconds": 0}, "cpu_seconds"),
        ({"wall_seconds": float("nan")}, "wall_seconds"),
        ({"memory_mb": 10}, "memory_mb"),
        ({"output_bytes": -1}, "output_bytes"),
        ({"processes": -1}, "processes"),
    ],
)
def test_bad_limits_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SandboxLimits(**kwargs)


def test_bad_inputs_rejected_clearly():
    with pytest.raises(TypeError, match="code"):
        run_python(b"print(1)")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="entrypoint"):
        run_python("x=1", entrypoint="not an id")
    with pytest.raises(ValueError, match="args_json"):
        run_python("def f(x): pass", entrypoint="f", args_json=[object()])
    with pytest.raises(ValueError, match="cases"):
        run_tests("def f(x): pass", "f", [])
    with pytest.raises(ValueError, match=r"cases\[0\]"):
        run_tests("def f(x): pass", "f", [(1,)])


def test_rlimits_follow_limits():
    import resource

    pairs = {
        which: (soft, hard) for which, soft, hard in rlimit_pairs(SandboxLimits(cpu_seconds=2.5))
    }
    assert pairs[resource.RLIMIT_CPU] == (3, 4)
    assert pairs[resource.RLIMIT_AS][0] == 256 * 1024 * 1024
    assert pairs[resource.RLIMIT_NPROC] == (0, 0)
