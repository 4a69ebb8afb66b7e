"""`mycel devnet`: the whole subnet on one machine (embedded chain, miners, a validator)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mycel_subnet.cli.exit_codes import ExitCode
from mycel_subnet.config import ConfigError
from mycel_subnet.devnet.plan import ALL_ENGINES, DEFAULT_ENGINES, DevnetPlan, default_out_dir

DESCRIPTION = """\
Run the Mycel subnet on this machine, with no outside service: a throwaway embedded chain
(bittensor's own SDK code on the 'sim' chain), a subnet, N miners as separate processes with
different engines (the honest capability ladder and deliberately dishonest ones), and a
validator that challenges them, scores them against the reference engine's floor and sets
weights. Beside them runs the collective loop on a local NEAR ledger: instances extract patterns
from logs and publish them (one poisoner publishes unsafe code), miners index the registry, the
validator verifies and attests (quarantining the unsafe one) and sets search tasks, and an
instance finds a pattern through the validator's gateway, buys it and rates it. After K epochs
it stops everything and writes a table, the registry's activity, a PNG chart and a JSON report.

Engines: deep, search, reference (the honest ladder, most capable first), llm (deep plus the
local model), and random, constant, refuse, slow and copier (dishonest on purpose).
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "devnet",
        help="run the whole subnet locally and report",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--miners", type=int, default=6, help="number of miners (default: 6)")
    parser.add_argument("--epochs", type=int, default=6, help="epochs to run (default: 6)")
    parser.add_argument(
        "--block-time", type=float, default=0.5, help="seconds per block (default: 0.5)"
    )
    parser.add_argument("--tempo", type=int, default=20, help="blocks per epoch (default: 20)")
    parser.add_argument(
        "--engines",
        default="",
        help="comma-separated engines, one per miner, cycled "
        f"(default: {','.join(DEFAULT_ENGINES)}; choices: {','.join(sorted(ALL_ENGINES))})",
    )
    parser.add_argument(
        "--base-port", type=int, default=18091, help="first miner port (default: 18091)"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default: devnet-out/<time>)"
    )
    parser.add_argument(
        "--chain",
        type=Path,
        default=None,
        help="use (or create) this chain file and keep it, for another run on the same chain",
    )
    parser.add_argument(
        "--keep-chain", action="store_true", help="keep the throwaway chain file in the output"
    )
    parser.add_argument(
        "--no-collective",
        dest="collective",
        action="store_false",
        help="skip the registry loop (instances publishing, verification, search tasks, the "
        "gateway, a purchase): only the chain, miners and validator",
    )
    parser.add_argument("--logging.debug", dest="debug", action="store_true", help="debug logs")
    parser.set_defaults(run=run)


def plan_from(args: argparse.Namespace) -> DevnetPlan:
    engines = tuple(e.strip() for e in args.engines.split(",") if e.strip())
    try:
        return DevnetPlan(
            miners=args.miners,
            epochs=args.epochs,
            block_time_s=args.block_time,
            tempo=args.tempo,
            base_port=args.base_port,
            out_dir=args.out or default_out_dir(),
            chain_path=args.chain,
            keep_chain=args.keep_chain or args.chain is not None,
            engines=engines,
            collective=args.collective,
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    from mycel_subnet.devnet.run import DevnetError, run_devnet
    from mycel_subnet.logging_setup import configure_logging

    configure_logging("DEBUG" if args.debug else "WARNING")
    plan = plan_from(args)
    try:
        return run_devnet(plan)
    except DevnetError as exc:
        print(f"mycel devnet: {exc}", file=sys.stderr)
        return exc.code
    except RuntimeError as exc:
        print(f"mycel devnet: {exc}", file=sys.stderr)
        return ExitCode.FAILURE
