"""`mycel config show`: print the effective settings (secrets masked), to check what a run uses."""

from __future__ import annotations

import argparse
import json

from mycel_subnet.cli.exit_codes import ExitCode
from mycel_subnet.cli.flags import add_settings_flags, settings_flags_from
from mycel_subnet.config import MycelSettings, load_settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("config", help="show the effective configuration")
    actions = parser.add_subparsers(dest="config_action", metavar="ACTION", required=True)
    show = actions.add_parser(
        "show", help="print the merged settings as JSON (defaults < file < env < flags)"
    )
    add_settings_flags(show, list(MycelSettings.model_fields))
    show.set_defaults(run=run_show)


def run_show(args: argparse.Namespace) -> int:
    settings = load_settings(settings_flags_from(args), args.config)
    print(json.dumps(settings.model_dump(mode="json"), indent=2))
    return ExitCode.OK
