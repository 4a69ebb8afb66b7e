"""Settings precedence and errors: defaults < TOML file < MYCEL_* env < flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from mycel_subnet.config import ConfigError, dotted_to_nested, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    import os

    for key in list(os.environ):
        if key.startswith("MYCEL_"):
            monkeypatch.delenv(key)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mycel.toml"
    path.write_text(text)
    return path


def test_defaults_are_the_embedded_chain_and_bittensor_ports() -> None:
    settings = load_settings()
    assert settings.subtensor.network == "sim"
    assert settings.axon.port == 8091
    assert settings.logging.level == "INFO"


def test_precedence_file_env_flags(tmp_path, monkeypatch) -> None:
    config = write(tmp_path, 'netuid = 7\n[axon]\nport = 9000\n[wallet]\nname = "filewallet"\n')
    assert load_settings(config_file=config).axon.port == 9000
    monkeypatch.setenv("MYCEL_AXON__PORT", "9100")
    settings = load_settings(config_file=config)
    assert (settings.netuid, settings.axon.port, settings.wallet.name) == (7, 9100, "filewallet")
    settings = load_settings({"axon.port": 9200, "logging.debug": True}, config)
    assert settings.axon.port == 9200
    assert settings.logging.level == "DEBUG"


def test_list_settings_from_env_json(monkeypatch) -> None:
    alice = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
    monkeypatch.setenv("MYCEL_MINER__DENY", f'["{alice}"]')
    assert load_settings().miner.deny == [alice]


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        ({"axon.port": 70000}, "axon.port"),
        ({"netuid": -1}, "netuid"),
        ({"subtensor.network": "mainnet-please"}, "subtensor.network"),
        ({"wallet.name": "../../etc"}, "wallet.name"),
        ({"model.device": "tpu"}, "model.device"),
        ({"validator.timeout_s": 0}, "validator.timeout_s"),
        ({"axon.bogus": 1}, "axon.bogus"),
    ],
)
def test_bad_values_are_one_line_errors_naming_the_setting(flags, needle) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(flags)
    message = str(info.value)
    assert needle in message and "\n" not in message


def test_bad_env_value_names_the_setting(monkeypatch) -> None:
    monkeypatch.setenv("MYCEL_AXON__PORT", "eighty")
    with pytest.raises(ConfigError, match="axon.port"):
        load_settings()


def test_missing_and_invalid_config_files(tmp_path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(config_file=tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(config_file=write(tmp_path, "netuid = = 3"))
    with pytest.raises(ConfigError, match="netuid"):
        load_settings(config_file=write(tmp_path, 'netuid = "three"'))


def test_secrets_are_masked_when_dumped(monkeypatch) -> None:
    monkeypatch.setenv("MYCEL_MODEL__ANTHROPIC_API_KEY", "sk-ant-secret-value-123456")
    settings = load_settings()
    assert settings.model.anthropic_api_key.get_secret_value() == "sk-ant-secret-value-123456"
    assert "secret-value" not in settings.model_dump_json()


def test_dotted_to_nested_drops_unset_flags() -> None:
    assert dotted_to_nested({"a.b": 1, "a.c": None, "d": 2}) == {"a": {"b": 1}, "d": 2}
