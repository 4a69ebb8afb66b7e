"""`mycel schema`: write or check the protocol's JSON Schema file."""

from __future__ import annotations

import argparse

from protocol import schema


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("schema", help="write (or --check) protocol/clay_protocol.schema.json")
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return schema.main(["--check"] if args.check else [])
