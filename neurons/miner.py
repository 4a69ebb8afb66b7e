"""`mycel-miner` / `python -m neurons.miner`: run a Mycel miner.

Flags are generated from the settings (`--axon.port`, `--wallet.name`, `--miner.engine`, ...);
see docs/miner.md. Exit codes: 0 stopped cleanly, 2 bad configuration, 3 hotkey not registered,
4 chain or port unavailable.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from mycel_subnet.cli.exit_codes import ExitCode
from mycel_subnet.cli.flags import add_settings_flags, settings_flags_from
from mycel_subnet.config import ConfigError, load_settings
from mycel_subnet.logging_setup import configure_logging

SECTIONS = ["netuid", "subtensor", "wallet", "axon", "logging", "model", "miner", "ipfs"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mycel-miner",
        description="Serve ClaySynapse requests from validators: authenticated, rate-limited, "
        "signed answers from the configured engine.",
    )
    add_settings_flags(parser, SECTIONS)
    return parser


def main(argv: Sequence[str] | None = None, *, engine: Any = None) -> int:
    """Entry point; ``engine`` lets a test or embedding program supply its own MinerEngine."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(settings_flags_from(args), args.config)
    except ConfigError as error:
        print(f"mycel-miner: {error}", file=sys.stderr)
        return ExitCode.USAGE
    configure_logging(settings.logging.level, settings.logging.json_logs)
    from mycel_subnet.miner.run import run_miner

    try:
        return run_miner(settings, engine=engine)
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
