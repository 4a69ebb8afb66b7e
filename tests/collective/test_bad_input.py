"""Bad input gives one line naming what is wrong and exit code 2 (never a traceback); a log with
nothing reusable is refused with the reason (exit 1); the log formats accepted; k-anonymity."""

from __future__ import annotations

import json

import pytest

from mycel_subnet.cli.main import main
from mycel_subnet.collective.api import check_bind
from mycel_subnet.collective.errors import BadInput
from mycel_subnet.collective.logfile import parse_messages
from mycel_subnet.collective.publish import parse_price
from tests.collective.conftest import ALICE
from tests.collective.planted import planted_log, write_log


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(["pattern", *argv])
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if not line.startswith("...")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["extract", "{tmp}/nope.json"], "log file not found"),
        (["extract", "{tmp}/bad.json"], "neither JSON nor JSONL"),
        (["extract", "{tmp}/empty.json"], "no message with text"),
        (["extract", "{tmp}/roles.json"], "unknown role"),
        (["publish", "f" * 64, "--price", "-1"], "--price"),
        (["publish", "f" * 64, "--price", "lots"], "--price"),
        (["publish", "f" * 64, "--price", "5"], "unknown pattern"),
        (["publish", "not-an-id"], "not a pattern id"),
        (["show", "a" * 64], "unknown pattern"),
        (["show", "987654"], "unknown pattern"),
        (["use", "b" * 64, "--args", "[1]"], "unknown pattern"),
        (["rate", "c" * 64, "--rating", "9"], "--rating"),
        (["find", "anything", "-k", "0"], "-k"),
        (["find", "anything", "--min-reputation", "2"], "--min-reputation"),
        (["find", "  "], "query"),
        (["use", "1", "--args", "{oops"], "not JSON"),
        (["serve", "--host", "0.0.0.0"], "refusing to bind"),
        (["extract", "{tmp}/log.json", "--near.account_id", "Not An Account!"], "account"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(world, capsys, tmp_path, argv, needle):
    (tmp_path / "bad.json").write_text('[{"role": "user", "content": "hi"')
    (tmp_path / "empty.json").write_text('[{"role": "user", "content": ""}]')
    (tmp_path / "roles.json").write_text('[{"role": "wizard", "content": "hello there"}]')
    write_log(tmp_path)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code, _, err = run(capsys, argv[0], *world.flags(ALICE), *argv[1:])
    assert code == 2, err
    assert needle in one_line(err)


def test_help_for_every_command(capsys):
    for action in ("extract", "publish", "find", "show", "use", "rate", "earnings", "serve"):
        code, out, _ = run(capsys, action, "--help")
        assert code == 0 and "--json" in out and "--home" in out


@pytest.mark.slow
def test_nothing_reusable_is_refused_with_the_reason(world, capsys, tmp_path):
    messages = [
        {"role": "user", "content": "My name is Ilse Vandersteen, ilse@vandersteen-bakkerij.be"},
        {"role": "assistant", "content": "Nice to meet you, Ilse."},
    ]
    path = tmp_path / "private.json"
    path.write_text(json.dumps(messages))
    code, out, err = run(capsys, "extract", str(path), "--json", *world.flags(ALICE))
    assert code == 1
    assert "not shareable" in one_line(err)
    shown = json.loads(out)
    assert shown["refused"] and shown["reason"] and shown["pattern_id"] is None
    assert "ilse" not in out.lower() and "vandersteen" not in out.lower()


@pytest.mark.slow
def test_k_anonymity_needs_k_distinct_interactions(world, capsys, tmp_path):
    first, _ = write_log(tmp_path)
    flags = [*world.flags("kanon.mycel.test"), "--k-anonymity", "2", "--json"]
    code, out, err = run(capsys, "extract", str(first), *flags)
    assert code == 1 and "k-anonymity" in one_line(err)
    assert json.loads(out)["k_anonymity"] == {"seen": 1, "k": 2}
    same = tmp_path / "again.jsonl"  # the same chat in the other format counts once
    same.write_text("\n".join(json.dumps(m) for m in planted_log()[0]))
    code, out, _ = run(capsys, "extract", str(same), *flags)
    assert code == 1 and json.loads(out)["k_anonymity"]["seen"] == 1
    other = tmp_path / "other.json"
    other.write_text(first.read_text().replace("Marta Kowalczyk", "Tomasz Nowicki"))
    code, out, err = run(capsys, "extract", str(other), *flags)
    assert code == 0, err
    assert json.loads(out)["k_anonymity"] == {"seen": 2, "k": 2}


def test_anthropic_and_openai_message_shapes():
    anthropic = {
        "system": "You are helpful.",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Sort this list"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "Use sorted()."}]},
        ],
    }
    log = parse_messages(anthropic)
    assert [t.role for t in log.turns] == ["system", "user", "assistant"]
    openai = [{"role": "user", "content": "x"}, {"role": "function", "content": "42"}]
    assert [t.role for t in parse_messages(openai).turns] == ["user", "tool"]
    with pytest.raises(BadInput, match="content must be"):
        parse_messages([{"role": "user", "content": 5}])


def test_prices_and_binds():
    assert parse_price("0.01NEAR") == 10**22
    assert parse_price("1_000") == 1000
    for bad in ("-1", "0.5", "1e400", "NEAR"):
        with pytest.raises(BadInput, match="--price"):
            parse_price(bad)
    check_bind("127.0.0.1", False)
    check_bind("::1", False)
    check_bind("0.0.0.0", True)
    with pytest.raises(BadInput, match="refusing"):
        check_bind("192.168.1.5", False)
