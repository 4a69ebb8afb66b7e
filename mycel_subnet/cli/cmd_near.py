"""`mycel near ...`: a miner operator's side of the NEAR contracts.

`mycel near bind` binds the miner's hotkey to the operator's NEAR account so the validators'
rewards for that hotkey raise the account's reputation: the hotkey signs
`mycel-bind:v1:<account>:<hotkey>` and the NEAR account itself submits `bind_hotkey` (only
that account's own transaction can name it). Validators verify the signature and confirm the
binding before their next reward mirror. `mycel near binding` shows where a binding stands.

Exit codes: 0 done, 1 refused by the contract, 2 bad input (no account, no hotkey file),
4 NEAR unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from mycel_subnet.cli.exit_codes import ExitCode
from mycel_subnet.cli.flags import add_settings_flags, settings_flags_from
from mycel_subnet.config import ConfigError, load_settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("near", help="bind a miner hotkey to a NEAR account")
    actions = parser.add_subparsers(dest="near_action", metavar="ACTION", required=True)
    for name, help_text, run in (
        ("bind", "sign with the hotkey and submit bind_hotkey from the NEAR account", run_bind),
        ("binding", "show the hotkey's binding as the reputation contract holds it", run_show),
    ):
        p = actions.add_parser(name, help=help_text)
        add_settings_flags(p, ["wallet", "near"])
        p.add_argument(
            "--ledger", type=Path, default=None,
            help="the ledger file for --near.network local (default: ~/.mycel/near/ledger.db)",
        )  # fmt: skip
        p.add_argument("--json", action="store_true", help="print the result as JSON")
        p.set_defaults(run=run)


def _hotkey(settings: Any) -> Any:
    """The wallet's hotkey keypair (a hotkey-only wallet is enough), or a ConfigError."""
    import bittensor as bt

    ws = settings.wallet
    wallet = bt.Wallet(ws.name, ws.hotkey, str(Path(ws.path).expanduser()))
    if not wallet.hotkey_file.exists_on_device():
        raise ConfigError(f"no hotkey {ws.hotkey!r} in wallet {ws.name!r} under {ws.path}")
    try:
        return wallet.hotkey
    except Exception as exc:  # an encrypted or corrupt key file: say which, never its content
        raise ConfigError(f"hotkey {ws.hotkey!r} of wallet {ws.name!r} cannot be read: "
                          f"{type(exc).__name__}") from None  # fmt: skip


def _client(settings: Any, ledger: Path | None) -> Any:
    from mycel_subnet.near.client import DEFAULT_LEDGER_PATH, make_registry_client

    near = settings.near
    if not near.account_id:
        raise ConfigError("--near.account_id is required: the NEAR account to bind the hotkey to")
    key = near.private_key.get_secret_value() if near.private_key else None
    try:
        return make_registry_client(
            near.network, near.account_id, private_key=key,
            ledger_path=ledger or DEFAULT_LEDGER_PATH, registry=near.registry_contract,
            reputation=near.reputation_contract,
        )  # fmt: skip
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _print(args: argparse.Namespace, data: dict[str, Any], line: str) -> None:
    print(json.dumps(data, sort_keys=True) if args.json else line)


async def _bind(settings: Any, ledger: Path | None) -> dict[str, Any]:
    from mycel_subnet.chain.binding import binding_statement, sign_binding

    keypair = _hotkey(settings)
    client = _client(settings, ledger)
    account, hotkey = settings.near.account_id, keypair.ss58_address
    try:
        signature = sign_binding(keypair, account)
        await client.bind_hotkey(hotkey, signature)
        found = await client.get_binding(hotkey)
    finally:
        await client.close()
    return {"account": account, "hotkey": hotkey, "statement": binding_statement(account, hotkey),
            "binding": _jsonable(found)}  # fmt: skip


async def _show(settings: Any, ledger: Path | None) -> dict[str, Any]:
    keypair = _hotkey(settings)
    client = _client(settings, ledger)
    try:
        found = await client.get_binding(keypair.ss58_address)
    finally:
        await client.close()
    return {"hotkey": keypair.ss58_address, "binding": _jsonable(found)}


def _jsonable(found: Any) -> Any:
    if found is None or isinstance(found, dict):
        return found
    dump = getattr(found, "model_dump", None)
    return dump(mode="json") if callable(dump) else str(found)


def _bound_to(hotkey: str, binding: Any) -> str | None:
    from mycel_subnet.validator.bindings import parse_binding

    return parse_binding(hotkey, binding).account


def _run(args: argparse.Namespace, job) -> tuple[int, dict[str, Any] | None]:
    from mycel_subnet.near.client import RegistryError

    settings = load_settings(settings_flags_from(args), args.config)
    try:
        return ExitCode.OK, asyncio.run(job(settings, args.ledger))
    except RegistryError as exc:
        text = " ".join(exc.message.split())[:300]
        unreachable = any(w in text.lower() for w in ("connect", "timeout", "unreachable"))
        print(f"mycel near: {text}", file=sys.stderr)
        return (ExitCode.UNAVAILABLE if unreachable else ExitCode.FAILURE), None


def run_bind(args: argparse.Namespace) -> int:
    code, data = _run(args, _bind)
    if data is not None:
        bound = _bound_to(data["hotkey"], data["binding"]) == data["account"]
        state = "confirmed" if bound else "pending until a validator verifies the signature"
        _print(args, data, f"bind request of {data['hotkey']} to {data['account']} sent ({state})")
    return code


def run_show(args: argparse.Namespace) -> int:
    code, data = _run(args, _show)
    if data is not None:
        from mycel_subnet.validator.bindings import parse_binding

        state = parse_binding(data["hotkey"], data["binding"])
        line = f"{data['hotkey']}: " + (f"bound to {state.account}" if state.account else "unbound")
        if state.requests:
            line += "; pending: " + ", ".join(r.account for r in state.requests)
        _print(args, data, line)
    return code
