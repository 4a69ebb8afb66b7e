"""`mycel gateway` and the gateway settings: the key is printed once and never listed, bad input
is one line with exit 2, and the key is never a flag."""

from __future__ import annotations

import json

import pytest

from mycel_subnet.cli.main import main
from mycel_subnet.config import ConfigError, load_settings
from mycel_subnet.gateway.keys import KeyStore


def test_issue_list_revoke(tmp_path, capsys):
    state = ["--validator.state_dir", str(tmp_path)]
    assert main(["gateway", "issue", "alice instance", *state]) == 0
    out, err = capsys.readouterr()
    key = out.strip()
    assert key.startswith("mgw_") and "only its hash" in err and key not in err
    with KeyStore(tmp_path / "gateway_keys.sqlite") as keys:
        assert keys.check_api_key(key).ok

    assert main(["gateway", "issue", "bob", *state, "--json"]) == 0
    issued = json.loads(capsys.readouterr().out)
    assert issued["key"].startswith("mgw_") and issued["name"] == "bob"

    assert main(["gateway", "list", *state, "--json"]) == 0
    listed = capsys.readouterr().out
    rows = json.loads(listed)
    assert [r["name"] for r in rows] == ["alice instance", "bob"]
    assert key not in listed and issued["key"] not in listed and "key" not in rows[0]

    assert main(["gateway", "revoke", issued["id"], *state]) == 0
    assert "revoked api_key" in capsys.readouterr().out
    assert main(["gateway", "list", *state]) == 0
    table = capsys.readouterr().out
    assert "revoked" in table and "active" in table and key not in table


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["gateway", "revoke", "nope"], "no credential"),
        (["gateway", "allow", "5notakey", "--name", "x"], "SS58"),
        (["gateway", "issue", "bad\nname"], "name must be"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, argv, needle):
    assert main([*argv, "--validator.state_dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err and "Traceback" not in err


def test_a_file_that_is_not_a_keys_file(tmp_path, capsys):
    bogus = tmp_path / "keys.sqlite"
    bogus.write_bytes(b"not sqlite at all" * 100)
    assert main(["gateway", "list", "--gateway.keys_file", str(bogus)]) == 2
    assert "not a gateway keys file" in capsys.readouterr().err


def test_settings_and_flags(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["pattern", "find", "q", "--gateway.api_key", "mgw_secret"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "MYCEL_GATEWAY__API_KEY" in err and "mgw_secret" not in err
    with pytest.raises(ConfigError, match="gateway.port"):
        load_settings(
            {"gateway.enabled": True, "gateway.port": 9100, "validator.metrics_port": 9100}
        )
    with pytest.raises(ConfigError, match="gateway.url"):
        load_settings({"gateway.url": "ftp://x"})
    with pytest.raises(ConfigError, match="gateway.host"):
        load_settings({"gateway.host": "example.org"})
    settings = load_settings({"gateway.url": "http://127.0.0.1:8094/"})
    assert settings.gateway.url == "http://127.0.0.1:8094" and not settings.gateway.enabled
    from neurons.validator import build_parser

    assert "--gateway.enabled" in build_parser().format_help()
