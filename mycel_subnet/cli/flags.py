"""Command-line flags generated from the settings tree, so flags, docs and config never drift.

Every field of a settings section becomes `--section.field` (`--axon.port`, `--wallet.name`),
top-level fields become `--field` (`--netuid`). Secrets are not offered as flags: they would leak
into shell history and process lists; they come from the environment or the config file.
"""

from __future__ import annotations

import argparse
import enum
import types
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from mycel_subnet.config import MycelSettings


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
    if annotation is SecretStr:
        return
    if annotation is bool:
        group.add_argument(f"--{flag}", action=argparse.BooleanOptionalAction, **kwargs)
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
    default = field.default
    if default is not None and not isinstance(default, list | BaseModel):
        kwargs["help"] = f"{help_text} (default: {default})".strip()
    group.add_argument(f"--{flag}", **kwargs)


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
