"""The shared shape of the neuron entry points (mycel-miner, mycel-validator): flags generated
from the named settings sections, one-line configuration errors (exit 2), logging set up, then
the runner; Ctrl-C is exit 130."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from mycel_subnet.cli.exit_codes import ExitCode
from mycel_subnet.cli.flags import add_settings_flags, settings_flags_from
from mycel_subnet.config import ConfigError, MycelSettings, load_settings
from mycel_subnet.logging_setup import configure_logging


def neuron_parser(prog: str, description: str, sections: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    add_settings_flags(parser, sections)
    return parser


def apply_sandbox_settings(settings: MycelSettings) -> str | None:
    """Set the sandbox's isolation policy and probe it now; the refusal text if code would be
    refused (both neurons run untrusted code templates, so fail at start, not mid-step)."""
    from mycel_subnet.sandbox import SandboxUnavailable, check_isolation, configure_isolation

    sandbox = settings.sandbox
    configure_isolation(
        allow_weak_isolation=sandbox.allow_weak_isolation,
        bwrap_path=str(sandbox.bwrap_path) if sandbox.bwrap_path else None,
    )
    try:
        check_isolation()
    except SandboxUnavailable as error:
        return str(error)
    return None


def run_neuron(
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None,
    runner: Callable[[MycelSettings], int],
) -> int:
    args = parser.parse_args(argv)
    try:
        settings = load_settings(settings_flags_from(args), args.config)
    except ConfigError as error:
        print(f"{parser.prog}: {error}", file=sys.stderr)
        return ExitCode.USAGE
    configure_logging(settings.logging.level, settings.logging.json_logs)
    if (refusal := apply_sandbox_settings(settings)) is not None:
        print(f"{parser.prog}: {refusal}", file=sys.stderr)
        return ExitCode.UNAVAILABLE
    try:
        return runner(settings)
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
