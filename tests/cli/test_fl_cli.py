"""`mycel fl run`: bad flags and a busy port are refused in one line before anything starts
(no chain, no process, no output folder); --help starts nothing."""

from __future__ import annotations

import socket

import pytest

from mycel_subnet.cli.main import main


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (["--rounds", "0"], "--rounds must be between 1 and 50, got 0"),
        (["--honest", "0"], "--honest must be between 1 and 16"),
        (["--noise-multiplier", "0"], "--noise-multiplier must be > 0"),
        (["--examples", "3"], "--examples must be between 16"),
    ],
)
def test_bad_values_are_one_line_usage_errors(tmp_path, capsys, flags, needle) -> None:
    out = tmp_path / "out"
    assert main(["fl", "run", "--out", str(out), *flags]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_a_busy_port_is_refused_before_anything_starts(tmp_path, capsys) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = tmp_path / "out"
        code = main(["fl", "run", "--honest", "1", "--noise", "0", "--copy", "0",
                     "--base-port", str(port), "--out", str(out)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 4 and f"port(s) {port} already in use" in err and "--base-port" in err
    assert not out.exists()


def test_help_starts_nothing(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["fl", "run", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert "DP-SGD" in text and "--noise-multiplier" in text
