"""`mycel gateway ...`: the credentials of a validator's organic gateway (docs/gateway.md).

issue NAME      a new API key for a Mycel OS instance; printed once, only its hash is kept
allow SS58      let btauth/1 signed requests from this hotkey in, registered or not
list            every credential (never a key): id, kind, name, created, revoked
revoke ID       revoke an API key (by id or the key itself) or an allowed hotkey; a running
                gateway refuses it from its next request

The file is --gateway.keys_file, or gateway_keys.sqlite in --validator.state_dir.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from pathlib import Path

from mycel_subnet.cli.exit_codes import ExitCode
from mycel_subnet.config import load_settings

PROG = "mycel gateway"


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=None, help="TOML config file")
    parser.add_argument(
        "--gateway.keys_file", dest="gateway.keys_file", type=Path, default=None,
        help="the credentials file (default: validator.state_dir/gateway_keys.sqlite)",
    )  # fmt: skip
    parser.add_argument(
        "--validator.state_dir", dest="validator.state_dir", type=Path, default=None,
        help="the validator's state folder (default: ~/.mycel/validator)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "gateway", help="issue, list and revoke the organic gateway's API keys",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    actions = parser.add_subparsers(dest="gateway_action", metavar="ACTION", required=True)
    p = actions.add_parser("issue", help="a new API key (shown once)")
    p.add_argument("name", help="who the key is for, e.g. the instance's owner")
    _common(p)
    p = actions.add_parser("allow", help="accept signed requests from a hotkey")
    p.add_argument("hotkey", help="SS58 address of the caller's hotkey")
    p.add_argument("--name", required=True, help="who the hotkey belongs to")
    _common(p)
    p = actions.add_parser("list", help="every API key and allowed hotkey (never a key)")
    _common(p)
    p = actions.add_parser("revoke", help="revoke an API key or allowed hotkey")
    p.add_argument("id", help="the credential's id, the API key itself, or the hotkey")
    _common(p)
    parser.set_defaults(run=run)


def _when(ts: float | None) -> str:
    return "-" if ts is None else time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts))


def _row(c) -> dict:
    return {"id": c.id, "kind": c.kind, "name": c.name, "hotkey": c.hotkey,
            "created_at": round(c.created_at, 3), "revoked_at": c.revoked_at}  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from mycel_subnet.gateway.keys import KeyStore, KeyStoreError
    from mycel_subnet.gateway.runtime import keys_path

    flags = {k: v for k, v in vars(args).items() if "." in k and v is not None}
    settings = load_settings(flags, args.config)
    path = keys_path(settings.gateway, Path(settings.validator.state_dir).expanduser())
    action = args.gateway_action
    try:
        with KeyStore(path) as keys:
            if action == "issue":
                issued = keys.issue(args.name)
                if args.json:
                    print(json.dumps({**_row(issued.credential), "key": issued.key}))
                else:
                    print(issued.key)
                print(f"{PROG} issue: key {issued.credential.id} for {issued.credential.name!r}; "
                      "store it now, the gateway keeps only its hash", file=sys.stderr)  # fmt: skip
            elif action == "allow":
                entry = keys.allow_hotkey(args.hotkey, args.name)
                print(json.dumps(_row(entry)) if args.json else
                      f"allowed {entry.hotkey} ({entry.name}) as {entry.id}")  # fmt: skip
            elif action == "revoke":
                entry = keys.revoke(args.id)
                print(json.dumps(_row(entry)) if args.json else
                      f"revoked {entry.kind} {entry.id} ({entry.name}) at "
                      f"{_when(entry.revoked_at)} UTC")  # fmt: skip
            else:
                rows = keys.list()
                if args.json:
                    print(json.dumps([_row(c) for c in rows]))
                else:
                    for c in rows:
                        state = f"revoked {_when(c.revoked_at)}" if c.revoked else "active"
                        print(f"{c.id}  {c.kind:<7}  {state:<24} created {_when(c.created_at)}  "
                              f"{c.name}{'  ' + c.hotkey if c.hotkey else ''}")  # fmt: skip
                    if not rows:
                        print(f"no credentials in {path}")
    except KeyStoreError as error:
        print(f"{PROG} {action}: {error}", file=sys.stderr)
        return ExitCode.USAGE
    except OSError as error:
        print(f"{PROG} {action}: cannot open {path}: {error.strerror}", file=sys.stderr)
        return ExitCode.UNAVAILABLE
    except sqlite3.DatabaseError as error:
        print(f"{PROG} {action}: {path} is not a gateway keys file: {error}", file=sys.stderr)
        return ExitCode.USAGE
    return ExitCode.OK
