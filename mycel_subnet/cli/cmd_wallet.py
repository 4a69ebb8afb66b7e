"""`mycel wallet`: create and inspect wallets for the devnet and tests, without prompts.

An unencrypted coldkey is only created with `--devnet`: for real funds use `btcli wallet create`,
which asks for a password. Mnemonics are never printed.
"""

from __future__ import annotations

import argparse
import json

from mycel_subnet.cli.exit_codes import ExitCode
from mycel_subnet.cli.flags import add_settings_flags, settings_flags_from
from mycel_subnet.config import ConfigError, load_settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("wallet", help="create or show wallets (devnet and tests)")
    actions = parser.add_subparsers(dest="wallet_action", metavar="ACTION", required=True)

    create = actions.add_parser(
        "create", help="create a coldkey and hotkey (existing keys are kept)"
    )
    add_settings_flags(create, ["wallet"])
    create.add_argument(
        "--devnet",
        action="store_true",
        help="required: confirms the unencrypted coldkey is for a local devnet or tests",
    )
    create.set_defaults(run=run_create)

    hotkey = actions.add_parser("hotkey", help="add a hotkey to an existing wallet")
    add_settings_flags(hotkey, ["wallet"])
    hotkey.set_defaults(run=run_hotkey)

    show = actions.add_parser("show", help="print the wallet's public addresses as JSON")
    add_settings_flags(show, ["wallet"])
    show.set_defaults(run=run_show)


def _wallet_settings(args: argparse.Namespace):
    return load_settings(settings_flags_from(args), args.config).wallet


def run_create(args: argparse.Namespace) -> int:
    from mycel_subnet.chain.wallets import UnsafeWalletError, create_wallet

    ws = _wallet_settings(args)
    try:
        wallet = create_wallet(ws.name, ws.hotkey, ws.path, devnet=args.devnet)
    except UnsafeWalletError:
        raise ConfigError(
            "refusing to create an unencrypted coldkey without --devnet; for real funds use "
            "`btcli wallet create`, which protects the coldkey with a password"
        ) from None
    print(json.dumps(_addresses(wallet)))
    return ExitCode.OK


def run_hotkey(args: argparse.Namespace) -> int:
    from mycel_subnet.chain.wallets import create_hotkey

    ws = _wallet_settings(args)
    wallet = create_hotkey(ws.name, ws.hotkey, ws.path)
    print(json.dumps(_addresses(wallet)))
    return ExitCode.OK


def run_show(args: argparse.Namespace) -> int:
    import bittensor as bt

    ws = _wallet_settings(args)
    wallet = bt.Wallet(ws.name, ws.hotkey, str(ws.path.expanduser()))
    if not wallet.coldkeypub_file.exists_on_device():
        raise ConfigError(f"no wallet {ws.name!r} under {ws.path}")
    print(json.dumps(_addresses(wallet)))
    return ExitCode.OK


def _addresses(wallet) -> dict[str, str | None]:
    hotkey = None
    if wallet.hotkey_file.exists_on_device():
        hotkey = wallet.hotkey.ss58_address
    return {
        "name": wallet.name,
        "coldkey": wallet.coldkeypub.ss58_address,
        "hotkey_name": wallet.hotkey_str,
        "hotkey": hotkey,
    }
