"""Command-line flags generated from the settings tree, so flags, docs and config never drift.

Every field of a settings section becomes `--section.field` (`--axon.port`, `--wallet.name`),
top-level fields become `--field` (`--netuid`). Secrets are not offered as flags: they would leak
into shell history and process lists; they come from the environment or the config file.

Operators type flags from other tools out of habit: btcli 11's `--wallet`, `--wallet-hotkey`,
`--wallet-path` and the subnet template's `--subtensor.chain_endpoint` and
`--blacklist.force_validator_permit` are aliases; the template's `--neuron.*`,
`--logging.logging_dir` and other `--blacklist.*` flags are refused with one line naming the
Mycel flag to use instead.
Every parser error is one line on stderr and exit 2, never the whole usage.
"""

from __future__ import annotations

import argparse
import enum
import types
import typing
from pathlib import Path
from typing import Any, Literal, NoReturn

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from mycel_subnet.config import MycelSettings

# Flags of other tools that mean the same as a Mycel flag: extra option strings on that flag.
ALIASES: dict[str, tuple[str, ...]] = {
    "wallet.name": ("--wallet", "--wallet-name"),
    "wallet.hotkey": ("--wallet-hotkey",),
    "wallet.path": ("--wallet-path",),
    "subtensor.network": ("--subtensor.chain_endpoint",),
    "miner.require_validator_permit": ("--blacklist.force_validator_permit",),
}

# Flags of other tools with no Mycel equivalent of the same meaning: what to use instead.
INSTEAD: dict[str, str] = {
    "--neuron.device": "use --model.device",
    "--neuron.sample_size": "use --validator.sample_size",
    "--neuron.timeout": "use --validator.timeout_s",
    "--neuron.moving_average_alpha": "use --validator.moving_average_alpha",
    "--neuron.epoch_length": "use --validator.step_interval_s (seconds between steps)",
    "--neuron.full_path": "use --validator.state_dir",
    "--neuron.name": "use --validator.state_dir",
    "--neuron.": "Mycel has no --neuron.* flags; see --help for the miner.*, validator.* and "
    "model.* settings",
    "--logging.logging_dir": "Mycel logs to stderr; redirect it (2>>FILE) or let pm2/systemd "
    "keep the file",
    "--logging.record_log": "Mycel logs to stderr; redirect it (2>>FILE) or let pm2/systemd "
    "keep the file",
    "--blacklist.allow_non_registered": "unregistered callers are never served; use "
    "--miner.allow SS58 for a hotkey you trust",
    "--blacklist.minimum_stake_requirement": "use --miner.min_stake (TAO)",
    "--blacklist.": "use --miner.allow, --miner.deny, --miner.min_stake or "
    "--[no-]miner.require_validator_permit",
    "--wandb.off": "use --wandb.mode disabled",
    "--model.anthropic_api_key": "secrets are never flags (shell history, process lists); set "
    "MYCEL_MODEL__ANTHROPIC_API_KEY or put it in the --config file",
    "--near.private_key": "secrets are never flags (shell history, process lists); set "
    "MYCEL_NEAR__PRIVATE_KEY or put it in the --config file",
    "--gateway.api_key": "secrets are never flags (shell history, process lists); set "
    "MYCEL_GATEWAY__API_KEY or put it in the --config file",
}


def instead_of(flag: str) -> str | None:
    """What to use instead of a flag Mycel does not know (exact entries before prefixes)."""
    name = flag.split("=", 1)[0]
    if name in INSTEAD:
        return INSTEAD[name]
    for prefix, hint in INSTEAD.items():
        if prefix.endswith(".") and name.startswith(prefix):
            return hint
    return None


class OneLineArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose every error is one line naming the flag, and exit 2: a supervisor
    log or a terminal shows the problem, not 47 lines of usage."""

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        parsed, extras = super().parse_known_args(args, namespace)
        for extra in extras:
            if extra.startswith("--") and (hint := instead_of(extra)) is not None:
                self.error(f"{extra.split('=', 1)[0]} is not a Mycel flag: {hint}")
        return parsed, extras

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _unwrap_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _unwrap_optional(args[0])
    if origin is typing.Annotated:
        return _unwrap_optional(typing.get_args(annotation)[0])
    return annotation


def _add_field(group: argparse._ArgumentGroup, flag: str, field: FieldInfo) -> None:
    annotation = _unwrap_optional(field.annotation)
    help_text = field.description or ""
    kwargs: dict[str, Any] = {"dest": flag, "default": None, "help": help_text}
    names = (f"--{flag}", *ALIASES.get(flag, ()))
    if annotation is SecretStr:
        return
    if annotation is bool:
        if isinstance(field.default, bool):
            kwargs["help"] = f"{help_text} (default: {'on' if field.default else 'off'})"
        group.add_argument(*names, action=argparse.BooleanOptionalAction, **kwargs)
        return
    if typing.get_origin(annotation) is Literal:
        kwargs["choices"] = [str(c) for c in typing.get_args(annotation)]
    elif isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        kwargs["choices"] = [e.value for e in annotation]
    elif typing.get_origin(annotation) is list:
        kwargs["action"] = "append"
        kwargs["metavar"] = "VALUE"
    elif annotation in (int, float):
        kwargs["type"] = annotation
    elif annotation is Path:
        kwargs["type"] = Path
    default = field.get_default(call_default_factory=True)
    if default not in (None, "", []) and not isinstance(default, BaseModel):
        kwargs["help"] = f"{help_text} (default: {default})".strip()
    group.add_argument(*names, **kwargs)


def add_settings_flags(parser: argparse.ArgumentParser, sections: list[str]) -> None:
    """Add `--config` and the flags of the named sections (or top-level fields) to a parser."""
    parser.add_argument(
        "--config", type=Path, default=None, help="TOML config file (flags and env win over it)"
    )
    fields = MycelSettings.model_fields
    for name in sections:
        field = fields[name]
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            group = parser.add_argument_group(f"{name} settings")
            for sub_name, sub_field in annotation.model_fields.items():
                _add_field(group, f"{name}.{sub_name}", sub_field)
        else:
            _add_field(parser.add_argument_group("subnet"), name, field)


def settings_flags_from(args: argparse.Namespace) -> dict[str, Any]:
    """The settings flags the user actually gave, keyed by dotted name."""
    return {
        key: value
        for key, value in vars(args).items()
        if value is not None and (("." in key) or key in MycelSettings.model_fields)
    }
