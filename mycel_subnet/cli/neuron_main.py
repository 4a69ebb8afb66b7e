"""The shared shape of the neuron entry points (mycel-miner, mycel-validator): flags generated
from the named settings sections, one-line configuration errors (exit 2), logging set up, then
the runner; Ctrl-C is exit 130. On any network but the embedded sim, `--netuid` must be given:
the default 1 is another subnet on finney."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from mycel_subnet.chain.network import parse_network
from mycel_subnet.cli.flags import OneLineArgumentParser, add_settings_flags, settings_flags_from
from mycel_subnet.config import ConfigError, MycelSettings, load_settings
from mycel_subnet.exit_codes import ExitCode
from mycel_subnet.logging_setup import configure_logging


def neuron_parser(prog: str, description: str, sections: list[str]) -> argparse.ArgumentParser:
    parser = OneLineArgumentParser(prog=prog, description=description)
    add_settings_flags(parser, sections)
    return parser


def missing_netuid(settings: MycelSettings) -> str | None:
    """The refusal text when a real network is named without an explicit netuid (flag, env or
    config file): the default is only meant for the embedded sim chain."""
    network = settings.subtensor.network
    if "netuid" in settings.model_fields_set or parse_network(network).is_sim:
        return None
    return (
        f"--netuid is required on network {network} (the default {settings.netuid} is only "
        "for the embedded sim chain); pass --netuid N"
    )


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
    if (refusal := missing_netuid(settings)) is not None:
        print(f"{parser.prog}: {refusal}", file=sys.stderr)
        return ExitCode.USAGE
    configure_logging(settings.logging.level, settings.logging.json_logs)
    if (refusal := apply_sandbox_settings(settings)) is not None:
        print(f"{parser.prog}: {refusal}", file=sys.stderr)
        return ExitCode.UNAVAILABLE
    try:
        return runner(settings)
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
