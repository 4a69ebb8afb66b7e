"""Parse ``--subtensor.network`` values and open the matching ``bt.Subtensor``.

Accepted: ``sim`` (embedded chain at ``$MYCEL_SIM_PATH`` or ``~/.mycel/sim/chain.sqlite``),
``sim:/path/to/chain.sqlite``, ``local``, ``test``, ``finney``, ``ws://...`` / ``wss://...``.

A sim chain file must exist already (``mycel sim create PATH`` makes one): opening a network
never creates a chain, so a typo in ``sim:PATH`` is an error, not a new empty chain.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

NAMED_NETWORKS = ("local", "test", "finney")
DEFAULT_SIM_PATH = Path("~/.mycel/sim/chain.sqlite")


@dataclass(frozen=True)
class NetworkSpec:
    """A parsed network: either the embedded sim (with its file) or a node the SDK dials."""

    value: str
    sim_path: Path | None = None  # set for the sim

    @property
    def is_sim(self) -> bool:
        return self.sim_path is not None


def default_sim_path() -> Path:
    return Path(os.environ.get("MYCEL_SIM_PATH") or DEFAULT_SIM_PATH).expanduser()


def parse_network(value: str) -> NetworkSpec:
    """Validate a network value; raises ValueError saying what is accepted."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            "subtensor network is empty; use sim, sim:/path, local, test, finney or ws(s)://"
        )
    text = value.strip()
    if text == "sim":
        return NetworkSpec(text, default_sim_path())
    if text.startswith("sim:"):
        path = text[len("sim:") :].strip()
        if not path:
            raise ValueError("sim: needs a chain file path, e.g. sim:/tmp/chain.sqlite")
        return NetworkSpec(text, Path(path).expanduser())
    if text in NAMED_NETWORKS:
        return NetworkSpec(text)
    if text.startswith(("ws://", "wss://")):
        if len(text.split("://", 1)[1]) == 0:
            raise ValueError(f"websocket URL {text!r} has no host")
        return NetworkSpec(text)
    raise ValueError(
        f"unknown subtensor network {value!r}; use sim, sim:/path/to/chain.sqlite, "
        "local, test, finney, or a ws:// / wss:// endpoint"
    )


def open_subtensor(value: str, *, create_sim: bool = False):
    """A blocking ``bt.Subtensor`` for the network.

    A sim file must exist with a genesis (``ChainFileMissing``/``NotAChainFile``, one line with
    the ``mycel sim create`` that fixes it, otherwise); ``create_sim`` makes a new one instead.
    """
    import bittensor as bt

    spec = parse_network(value)
    if not spec.is_sim:
        return bt.Subtensor(spec.value)
    from mycel_subnet.chain.sim.admin import create_chain, open_existing
    from mycel_subnet.chain.sim.substrate import SimSubstrate

    chain = create_chain(spec.sim_path) if create_sim else open_existing(spec.sim_path)
    # "local" only labels explorer links; every call goes to the SimSubstrate.
    return bt.Subtensor("local", substrate=SimSubstrate(chain=chain))
