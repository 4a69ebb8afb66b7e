"""`mycel-validator` / `python -m neurons.validator`: run a Mycel validator.

Flags are generated from the settings (`--validator.sample_size`, `--wallet.name`, ...); see
docs/validator.md. Exit codes: 0 stopped cleanly, 2 bad configuration or wallet, 3 hotkey not
registered, 4 chain, metrics or gateway port unavailable, 5 another validator runs with this
hotkey.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from mycel_subnet.cli.neuron_main import neuron_parser, run_neuron
from mycel_subnet.config import MycelSettings

SECTIONS = [
    "netuid", "subtensor", "wallet", "logging", "validator", "sandbox", "wandb", "near", "ipfs",
    "gateway",
]  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    return neuron_parser(
        "mycel-validator",
        "Challenge miners with tasks whose answers are known, score them, keep moving averages "
        "that survive restarts, and set weights on chain.",
        SECTIONS,
    )


def _run(settings: MycelSettings) -> int:
    from mycel_subnet.validator.run import run_validator

    return run_validator(settings)


def main(argv: Sequence[str] | None = None) -> int:
    return run_neuron(build_parser(), argv, _run)


if __name__ == "__main__":
    raise SystemExit(main())
