"""`mycel-validator` / `python -m neurons.validator`: run a Mycel validator.

Flags are generated from the settings (`--validator.sample_size`, `--wallet.name`, ...); see
docs/validator.md. Exit codes: 0 stopped cleanly, 2 bad configuration or wallet, 3 hotkey not
registered, 4 chain or metrics port unavailable, 5 another validator runs with this hotkey.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mycel_subnet.cli.exit_codes import ExitCode
from mycel_subnet.cli.flags import add_settings_flags, settings_flags_from
from mycel_subnet.config import ConfigError, load_settings
from mycel_subnet.logging_setup import configure_logging

SECTIONS = ["netuid", "subtensor", "wallet", "logging", "validator", "wandb", "near", "ipfs"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mycel-validator",
        description="Challenge miners with tasks whose answers are known, score them, keep "
        "moving averages that survive restarts, and set weights on chain.",
    )
    add_settings_flags(parser, SECTIONS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(settings_flags_from(args), args.config)
    except ConfigError as error:
        print(f"mycel-validator: {error}", file=sys.stderr)
        return ExitCode.USAGE
    configure_logging(settings.logging.level, settings.logging.json_logs)
    from mycel_subnet.validator.run import run_validator

    try:
        return run_validator(settings)
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
