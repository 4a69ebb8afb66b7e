"""`mycel fl run`: federated learning over a local subnet, with a report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mycel_subnet.cli.exit_codes import ExitCode
from mycel_subnet.config import ConfigError

DESCRIPTION = """\
Federated learning as a subnet activity, on this machine: a throwaway embedded chain, miners as
separate processes each with its own private data shard (the tiny toy model), and a
coordinator with the validator's hotkey that runs R rounds: it publishes the global LoRA adapter
by CID, each sampled miner trains it with DP-SGD (Opacus) and answers with its update's CID,
sha256 and a signed claim, the validator scores every update by the held-out loss it removes
beyond DP noise, finds copies, aggregates the rest (DP-FedAvg) and records the round on the
embedded NEAR ledger. Some miners are dishonest on purpose: noise (no training) and copy
(a scaled copy of an honest miner's update). Writes fl_report.json, fl.png and a table.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "fl",
        help="federated learning over a local subnet, with a report",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="fl_command", metavar="COMMAND", required=True)
    run_parser = commands.add_parser(
        "run",
        help="run federated rounds and report",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = run_parser.add_argument
    add("--honest", type=int, default=3, help="honest miners (default: 3)")
    add("--noise", type=int, default=1, help="miners sending noise (default: 1)")
    add("--copy", type=int, default=1, help="miners copying an honest one (default: 1)")
    add("--rounds", type=int, default=3, help="federated rounds (default: 3)")
    add("--examples", type=int, default=512, help="private texts per miner (default: 512)")
    add("--heldout", type=int, default=128, help="validator's held-out texts (default: 128)")
    add("--batch-size", type=int, default=64, help="expected DP-SGD batch (default: 64)")
    add("--local-steps", type=int, default=10, help="DP-SGD steps per round (default: 10)")
    add("--noise-multiplier", type=float, default=1.0, help="DP-SGD noise (default: 1.0)")
    add("--epsilon-budget", type=float, default=10.0, help="per-miner epsilon (default: 10)")
    add("--timeout", type=float, default=60.0, help="seconds a round may take (default: 60)")
    add("--base-port", type=int, default=18191, help="first miner port (default: 18191)")
    add("--out", type=Path, default=None, help="output folder (default: fl-out/<time>)")
    add("--logging.debug", dest="debug", action="store_true", help="debug logs")
    run_parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from mycel_subnet.flnet.plan import FlPlan, default_out_dir
    from mycel_subnet.flnet.run import FlRunError, run_fl
    from mycel_subnet.logging_setup import configure_logging

    configure_logging("DEBUG" if args.debug else "WARNING")
    try:
        plan = FlPlan(
            honest=args.honest, noise=args.noise, copy=args.copy, rounds=args.rounds,
            examples=args.examples, heldout=args.heldout, batch_size=args.batch_size,
            local_steps=args.local_steps, noise_multiplier=args.noise_multiplier,
            epsilon_budget=args.epsilon_budget, timeout_s=args.timeout,
            base_port=args.base_port, out_dir=args.out or default_out_dir(),
        )  # fmt: skip
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    try:
        code, _ = run_fl(plan)
        return code
    except FlRunError as exc:
        print(f"mycel fl: {exc}", file=sys.stderr)
        return exc.code
    except (RuntimeError, OSError, ValueError) as exc:
        print(f"mycel fl: {exc}", file=sys.stderr)
        return ExitCode.FAILURE
