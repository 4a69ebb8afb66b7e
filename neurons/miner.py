"""`mycel-miner` / `python -m neurons.miner`: run a Mycel miner.

Flags are generated from the settings (`--axon.port`, `--wallet.name`, `--miner.engine`, ...);
see docs/miner.md. Exit codes: 0 stopped cleanly, 2 bad configuration, 3 hotkey not registered,
4 chain or port unavailable (or the engine never answered its health check), 5 another miner
already runs with this hotkey.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from mycel_subnet.cli.neuron_main import neuron_parser, run_neuron
from mycel_subnet.config import MycelSettings

SECTIONS = [
    "netuid", "subtensor", "wallet", "axon", "logging", "model", "miner", "sandbox", "ipfs"
]  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    return neuron_parser(
        "mycel-miner",
        "Serve ClaySynapse requests from validators: authenticated, rate-limited, signed "
        "answers from the configured engine.",
        SECTIONS,
    )


def main(argv: Sequence[str] | None = None, *, engine: Any = None) -> int:
    """Entry point; ``engine`` lets a test or embedding program supply its own MinerEngine."""

    def run(settings: MycelSettings) -> int:
        from mycel_subnet.miner.run import run_miner

        return run_miner(settings, engine=engine)

    return run_neuron(build_parser(), argv, run)


if __name__ == "__main__":
    raise SystemExit(main())
