"""`mycel`: one entry point for the subnet's commands.

Subcommands register themselves in `COMMANDS` (name -> module with `add_parser` and `run`), so
each lives in its own module and `mycel --help` lists them all.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from mycel_subnet import __version__
from mycel_subnet.cli.exit_codes import ExitCode
from mycel_subnet.cli.flags import OneLineArgumentParser
from mycel_subnet.config import ConfigError

log = logging.getLogger("mycel")

COMMANDS: dict[str, str] = {
    "config": "mycel_subnet.cli.cmd_config",
    "devnet": "mycel_subnet.cli.cmd_devnet",
    "fl": "mycel_subnet.cli.cmd_fl",
    "gateway": "mycel_subnet.cli.cmd_gateway",
    "near": "mycel_subnet.cli.cmd_near",
    "pattern": "mycel_subnet.cli.cmd_pattern",
    "schema": "mycel_subnet.cli.cmd_schema",
    "scores": "mycel_subnet.cli.cmd_scores",
    "sim": "mycel_subnet.cli.cmd_sim",
    "wallet": "mycel_subnet.cli.cmd_wallet",
}


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineArgumentParser(
        prog="mycel",
        description="Mycel subnet: miners that evaluate, generate and serve patterns; validators "
        "that score them and set weights; a local devnet that runs it all.",
    )
    parser.add_argument("--version", action="version", version=f"mycel {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for _name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except ConfigError as exc:
        print(f"mycel: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except KeyboardInterrupt:
        print("mycel: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
