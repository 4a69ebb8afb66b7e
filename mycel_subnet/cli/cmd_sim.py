"""`mycel sim`: drive the embedded chain by hand, as btcli drives a node.

A sim chain is a file, so btcli cannot reach it; these commands do what an operator does on a
localnet (create a subnet, register, stake, set hyperparameters, watch the metagraph, advance
blocks) through the same code the devnet uses: the sim's admin functions and ``ChainPort`` (the
SDK's own intents). The sim's TAO is free: registering and staking top up the coldkey from the
faucet when it is short, unless ``--no-faucet``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from mycel_subnet.chain.network import default_sim_path
from mycel_subnet.config import ConfigError
from mycel_subnet.exit_codes import ExitCode

FAUCET_MARGIN_TAO = 1.0
COLUMNS = (
    "uid",
    "hotkey",
    "stake",
    "permit",
    "active",
    "incentive",
    "dividends",
    "emission",
    "last_update",
    "axon",
)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


# -- arguments -------------------------------------------------------------------------------


def _chain_path(value: str) -> Path:
    """``--chain PATH``; ``--subtensor.network sim:PATH`` (as the neurons take it) also works."""
    from mycel_subnet.chain.network import parse_network

    text = value.strip()
    if text == "sim" or text.startswith("sim:"):
        try:
            return parse_network(text).sim_path
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    if not text:
        raise argparse.ArgumentTypeError("the chain path is empty")
    if text.startswith(("ws://", "wss://")) or text in ("local", "test", "finney"):
        raise argparse.ArgumentTypeError(f"{text} is a node, not a sim chain; use btcli for it")
    return Path(text).expanduser()


def _add_chain(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--chain",
        "--subtensor.network",
        dest="chain",
        type=_chain_path,
        default=None,
        metavar="PATH",
        help="the sim chain file (or sim:PATH); default: $MYCEL_SIM_PATH or "
        "~/.mycel/sim/chain.sqlite",
    )


def _add_netuid(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--netuid", type=int, default=1, help="subnet id (default: 1)")


def _add_wallet(parser: argparse.ArgumentParser, default_name: str = "default") -> None:
    group = parser.add_argument_group("wallet (as the neurons take it)")
    group.add_argument(
        "--wallet.name",
        dest="wallet_name",
        default=default_name,
        help=f"wallet (coldkey) name (default: {default_name})",
    )
    group.add_argument(
        "--wallet.hotkey",
        dest="wallet_hotkey",
        default="default",
        help="hotkey name (default: default)",
    )
    group.add_argument(
        "--wallet.path",
        dest="wallet_path",
        type=Path,
        default=Path("~/.bittensor/wallets"),
        help="wallets folder (default: ~/.bittensor/wallets)",
    )


def _add_faucet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-faucet",
        dest="faucet",
        action="store_false",
        help="do not top up the coldkey from the sim's faucet when it is short",
    )


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "sim",
        help="drive the embedded chain by hand: subnet, register, stake, status, blocks",
        description="Drive the embedded chain (a file btcli cannot reach) by hand: create it, "
        "create and start a subnet, register and stake wallets, set hyperparameters, show the "
        "metagraph, advance blocks. TAO is free on the sim: register and stake top up the "
        "coldkey from the faucet unless --no-faucet. See docs/localnet.md for a walk.",
    )
    actions = parser.add_subparsers(dest="sim_action", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="create a new sim chain file (with its genesis)")
    create.add_argument(
        "path",
        nargs="?",
        type=_chain_path,
        default=None,
        help="chain file to create (default: $MYCEL_SIM_PATH or ~/.mycel/sim/chain.sqlite)",
    )
    create.add_argument(
        "--block-time",
        type=float,
        default=1.0,
        help="seconds per block when blocks follow the clock (default: 1.0)",
    )
    create.add_argument(
        "--manual",
        action="store_true",
        help="blocks advance only with `mycel sim advance`, not with the clock",
    )
    create.add_argument(
        "--tempo",
        type=int,
        default=None,
        help="blocks per epoch for subnets created on it (default: 100)",
    )
    create.set_defaults(run=run_create)

    subnet = actions.add_parser("subnet", help="register a subnet owned by a wallet and start it")
    _add_chain(subnet)
    _add_wallet(subnet, "owner")
    subnet.add_argument(
        "--no-start",
        dest="start",
        action="store_false",
        help="register only; start later with `mycel sim start`",
    )
    subnet.set_defaults(run=run_subnet)

    start = actions.add_parser("start", help="start a registered subnet (its emission begins)")
    _add_chain(start)
    _add_netuid(start)
    _add_wallet(start, "owner")
    start.set_defaults(run=run_start)

    fund = actions.add_parser("fund", help="give a wallet's coldkey TAO from the faucet")
    _add_chain(fund)
    _add_wallet(fund)
    fund.add_argument("--amount", type=float, required=True, help="TAO to mint")
    fund.set_defaults(run=run_fund)

    register = actions.add_parser("register", help="register a wallet's hotkey on a subnet")
    _add_chain(register)
    _add_netuid(register)
    _add_wallet(register)
    _add_faucet(register)
    register.set_defaults(run=run_register)

    stake = actions.add_parser("stake", help="stake TAO from a wallet's coldkey on its hotkey")
    _add_chain(stake)
    _add_netuid(stake)
    _add_wallet(stake)
    stake.add_argument("--amount", type=float, required=True, help="TAO to stake")
    _add_faucet(stake)
    stake.set_defaults(run=run_stake)

    hparam = actions.add_parser(
        "set", help="set a subnet hyperparameter (raw on-chain value, as root would)"
    )
    _add_chain(hparam)
    _add_netuid(hparam)
    hparam.add_argument("name", help="hyperparameter name, e.g. tempo, kappa, max_validators")
    hparam.add_argument("value", help="raw value: integers (u16 fractions over 65535), true/false")
    hparam.set_defaults(run=run_set)

    status = actions.add_parser("status", help="the subnet's neurons, stakes, permits, incentive")
    _add_chain(status)
    _add_netuid(status)
    status.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    status.set_defaults(run=run_status)

    advance = actions.add_parser(
        "advance", help="advance a --manual chain by blocks (running the epochs due)"
    )
    _add_chain(advance)
    _add_netuid(advance)
    how = advance.add_mutually_exclusive_group(required=True)
    how.add_argument("--blocks", type=int, help="blocks to advance")
    how.add_argument("--epochs", type=int, help="epochs of --netuid's subnet to advance")
    advance.set_defaults(run=run_advance)


# -- helpers ---------------------------------------------------------------------------------


def _path(args: argparse.Namespace) -> Path:
    return args.chain or default_sim_path()


def _open(args: argparse.Namespace):
    """The existing chain; a missing or foreign file is one line (exit 2) naming the fix."""
    from mycel_subnet.chain.sim.admin import open_existing
    from mycel_subnet.chain.sim.store import ChainNotInitialised

    try:
        return open_existing(_path(args))
    except ChainNotInitialised as error:
        raise ConfigError(str(error)) from None


def _wallet(args: argparse.Namespace, *, coldkey: bool = True) -> Any:
    import bittensor as bt

    path = args.wallet_path.expanduser()
    wallet = bt.Wallet(args.wallet_name, args.wallet_hotkey, str(path))
    create = (
        f"`mycel wallet create --devnet --wallet.name {args.wallet_name} "
        f"--wallet.hotkey {args.wallet_hotkey} --wallet.path {args.wallet_path}`"
    )
    if coldkey and not wallet.coldkey_file.exists_on_device():
        raise ConfigError(f"no coldkey for wallet {args.wallet_name!r} under {path}; {create}")
    if not wallet.hotkey_file.exists_on_device():
        raise ConfigError(
            f"no hotkey {args.wallet_hotkey!r} in wallet {args.wallet_name!r} under {path}; "
            f"{create}"
        )
    return wallet


def _network(args: argparse.Namespace) -> str:
    return f"sim:{_path(args)}"


def _require_subnet(sim, args: argparse.Namespace) -> dict[str, Any]:
    from mycel_subnet.chain.sim import hints

    with sim.store.read() as conn:
        row = sim.subnet(conn, args.netuid)
    if row is None:
        wallets = getattr(args, "wallet_path", None) or Path("~/.bittensor/wallets")
        hint = hints.subnet_hint(_path(args), wallets)
        raise ConfigError(f"no subnet {args.netuid} on sim:{_path(args)}; create one with {hint}")
    return dict(row)


def _top_up(sim, coldkey: str, need_tao: float, faucet: bool) -> None:
    """Faucet the shortfall so a sim write never fails for lack of free TAO."""
    from mycel_subnet.chain.sim import admin

    have = admin.balance(sim, coldkey)
    if have >= need_tao:
        return
    if not faucet:
        raise ConfigError(
            f"coldkey {coldkey} has {have:.4f} TAO, needs {need_tao:.4f}; run without "
            "--no-faucet or `mycel sim fund`"
        )
    admin.fund(sim, coldkey, need_tao - have + FAUCET_MARGIN_TAO)


def _result(what: str, result) -> int:
    if result.ok:
        print(result.message)
        return ExitCode.OK
    print(f"mycel sim {what}: {result.message}")
    return ExitCode.FAILURE


def _port(args: argparse.Namespace, wallet: Any):
    from mycel_subnet.chain.port import ChainPort

    return ChainPort(_network(args), args.netuid, wallet)


# -- commands --------------------------------------------------------------------------------


def run_create(args: argparse.Namespace) -> int:
    from mycel_subnet.chain.sim.admin import create_chain
    from mycel_subnet.chain.sim.params import GenesisConfig
    from mycel_subnet.chain.sim.store import ChainNotInitialised

    path = args.path or default_sim_path()
    if path.exists():
        raise ConfigError(f"{path} already exists; pick another path or remove it first")
    if not args.block_time > 0:
        raise ConfigError(f"--block-time must be > 0, got {args.block_time}")
    hparams = {}
    if args.tempo is not None:
        if args.tempo < 1:
            raise ConfigError(f"--tempo must be >= 1, got {args.tempo}")
        hparams["tempo"] = args.tempo
    config = GenesisConfig(block_time_s=args.block_time, manual=args.manual, hparams=hparams)
    try:
        create_chain(path, config, exist_ok=False)
    except (ChainNotInitialised, OSError) as error:
        raise ConfigError(f"cannot create {path}: {error}") from None
    mode = "manual blocks" if args.manual else f"one block every {args.block_time:g} s"
    print(f"created sim chain {path} ({mode}); its network is --subtensor.network sim:{path}")
    return ExitCode.OK


def run_subnet(args: argparse.Namespace) -> int:
    import bittensor as bt

    from mycel_subnet.chain.sim import admin
    from mycel_subnet.chain.sim.substrate import SimSubstrate

    sim = _open(args)
    owner = _wallet(args)
    if args.start:
        netuid = admin.create_subnet(sim, owner)
        print(f"subnet {netuid} registered and started on sim:{_path(args)}")
        return ExitCode.OK
    with sim.store.read() as conn:
        cost = sim.meta_int(conn, "network_lock_cost") / 1e9
    _top_up(sim, owner.coldkeypub.ss58_address, cost, True)
    client = bt.Subtensor("local", substrate=SimSubstrate(chain=sim))
    try:
        result = client.execute(bt.RegisterSubnet(), owner)
    finally:
        client.close()
    if not result.success:
        print(f"mycel sim subnet: {result.message}")
        return ExitCode.FAILURE
    netuid = int(result.data["netuid"])
    print(
        f"subnet {netuid} registered on sim:{_path(args)}; start it with `mycel sim start "
        f"--chain {_path(args)} --netuid {netuid}`"
    )
    return ExitCode.OK


def run_start(args: argparse.Namespace) -> int:
    import bittensor as bt

    from mycel_subnet.chain.sim.substrate import SimSubstrate

    sim = _open(args)
    _require_subnet(sim, args)
    owner = _wallet(args)
    client = bt.Subtensor("local", substrate=SimSubstrate(chain=sim))
    try:
        result = client.execute(bt.StartCall(netuid=args.netuid), owner)
    finally:
        client.close()
    if not result.success:
        print(f"mycel sim start: {result.message}")
        return ExitCode.FAILURE
    print(f"subnet {args.netuid} started")
    return ExitCode.OK


def run_fund(args: argparse.Namespace) -> int:
    from mycel_subnet.chain.sim import admin

    sim = _open(args)
    wallet = _wallet(args, coldkey=False)
    if not args.amount > 0:
        raise ConfigError(f"--amount must be > 0 TAO, got {args.amount}")
    free = admin.fund(sim, wallet.coldkeypub.ss58_address, args.amount)
    print(f"{args.wallet_name}: {free / 1e9:.4f} TAO free")
    return ExitCode.OK


def run_register(args: argparse.Namespace) -> int:
    sim = _open(args)
    row = _require_subnet(sim, args)
    wallet = _wallet(args)
    burn = json.loads(row["hparams"])["burn"] / 1e9
    port = _port(args, wallet)
    try:
        if port.my_uid() is None:
            _top_up(sim, wallet.coldkeypub.ss58_address, burn, args.faucet)
        result = port.register()
        if result.ok:
            result = type(result).success(f"{result.message}; uid {port.my_uid()}")
    finally:
        port.close()
    return _result("register", result)


def run_stake(args: argparse.Namespace) -> int:
    sim = _open(args)
    _require_subnet(sim, args)
    wallet = _wallet(args)
    if not args.amount > 0:
        raise ConfigError(f"--amount must be > 0 TAO, got {args.amount}")
    _top_up(sim, wallet.coldkeypub.ss58_address, args.amount, args.faucet)
    port = _port(args, wallet)
    try:
        result = port.add_stake(args.amount)
    finally:
        port.close()
    if result.ok:
        print(
            f"staked {args.amount:g} TAO on {wallet.hotkey.ss58_address}; permits are "
            "given at the next epoch to the highest stakes"
        )
        return ExitCode.OK
    return _result("stake", result)


def parse_hparam_value(name: str, text: str) -> Any:
    """A CLI string as the hyperparameter's type; ConfigError names the name and the value."""
    from mycel_subnet.chain.sim.params import DEFAULT_HPARAMS

    if name not in DEFAULT_HPARAMS:
        raise ConfigError(f"unknown hyperparameter {name!r}; known: {', '.join(DEFAULT_HPARAMS)}")
    default = DEFAULT_HPARAMS[name]
    lowered = text.strip().lower()
    if isinstance(default, bool):
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise ConfigError(f"{name} takes true or false, got {text!r}")
    if isinstance(default, int):
        try:
            value = int(lowered)
        except ValueError:
            raise ConfigError(f"{name} takes a whole number (raw on-chain), got {text!r}") from None
        if value < 0:
            raise ConfigError(f"{name} must be >= 0, got {value}")
        return value
    return text


def run_set(args: argparse.Namespace) -> int:
    from mycel_subnet.chain.sim import admin

    value = parse_hparam_value(args.name, args.value)
    sim = _open(args)
    _require_subnet(sim, args)
    admin.set_hyperparameter(sim, args.netuid, args.name, value)
    print(f"subnet {args.netuid}: {args.name} = {json.dumps(value)}")
    return ExitCode.OK


def status_of(args: argparse.Namespace) -> dict[str, Any]:
    """Head, hyperparameters and every neuron of one subnet, as plain data."""
    from mycel_subnet.chain.port import ChainPort

    sim = _open(args)
    row = _require_subnet(sim, args)
    port = ChainPort(_network(args), args.netuid)
    try:
        graph = port.metagraph()
    finally:
        port.close()
    with sim.store.read() as conn:
        mode = "manual" if sim.is_manual(conn) else "clock"
        block_time = float(sim._meta(conn, "block_time"))
    hp = json.loads(row["hparams"])
    tempo = int(hp["tempo"])
    started = row["start_block"] is not None
    return {
        "chain": str(_path(args)),
        "network": _network(args),
        "mode": mode,
        "block_time_s": block_time,
        "block": graph.block,
        "netuid": args.netuid,
        "started": started,
        "last_epoch_block": row["last_epoch"] if started else None,
        "next_epoch_block": row["last_epoch"] + tempo if started and tempo > 0 else None,
        "hyperparameters": hp,
        "neurons": [
            {
                "uid": n.uid,
                "hotkey": n.hotkey,
                "coldkey": n.coldkey,
                "stake": n.stake,
                "validator_permit": n.validator_permit,
                "active": n.active,
                "incentive": n.incentive,
                "dividends": n.dividends,
                "trust": n.trust,
                "consensus": n.consensus,
                "emission": n.emission,
                "last_update": n.last_update,
                "axon": f"{n.axon_ip}:{n.axon_port}" if n.axon_port else None,
            }
            for n in graph.neurons
        ],
    }


def run_status(args: argparse.Namespace) -> int:
    state = status_of(args)
    if args.json:
        print(json.dumps(state))
        return ExitCode.OK
    from rich.console import Console
    from rich.table import Table

    epoch = (
        f"next epoch at block {state['next_epoch_block']}"
        if state["started"]
        else "not started (`mycel sim start`)"
    )
    title = (
        f"subnet {state['netuid']} on {state['network']}: block {state['block']} "
        f"({state['mode']}), tempo {state['hyperparameters']['tempo']}, {epoch}"
    )
    table = Table(title=title, title_justify="left")
    for name in ("uid", "hotkey", "stake", "permit", "active", "incentive", "dividends",
                 "emission", "last_update", "axon"):  # fmt: skip
        table.add_column(name, justify="left" if name in ("hotkey", "axon") else "right")
    for n in state["neurons"]:
        table.add_row(
            str(n["uid"]),
            n["hotkey"][:10] + "…",
            f"{n['stake']:.4f}",
            "yes" if n["validator_permit"] else "no",
            "yes" if n["active"] else "no",
            f"{n['incentive']:.4f}",
            f"{n['dividends']:.4f}",
            f"{n['emission']:.4f}",
            str(n["last_update"]),
            n["axon"] or "-",
        )
    width = int(os.environ.get("COLUMNS", "0") or 0) or 140
    Console(width=max(width, 100)).print(table)
    return ExitCode.OK


def run_advance(args: argparse.Namespace) -> int:
    from mycel_subnet.chain.sim import admin

    sim = _open(args)
    with sim.store.read() as conn:
        manual = sim.is_manual(conn)
        block_time = float(sim._meta(conn, "block_time"))
    if not manual:
        raise ConfigError(
            f"sim:{_path(args)} follows the clock (a block every {block_time:g} s); only a chain "
            "made with `mycel sim create --manual` advances by hand"
        )
    if args.epochs is not None:
        row = _require_subnet(sim, args)
        blocks = args.epochs * int(json.loads(row["hparams"])["tempo"])
    else:
        blocks = args.blocks
    if blocks is None or blocks < 0:
        raise ConfigError(f"blocks to advance must be >= 0, got {blocks}")
    head = admin.advance_blocks(sim, blocks)
    print(f"advanced {blocks} blocks; head is block {head}")
    return ExitCode.OK
