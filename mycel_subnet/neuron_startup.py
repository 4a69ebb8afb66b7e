"""Start-up checks the miner and the validator share: the hotkey can be read, the chain answers,
the subnet exists and this hotkey is registered on it. Each failure is a `StartupError` whose
exit code says what kind of problem it is (see `mycel_subnet.exit_codes`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mycel_subnet.chain.port import ChainPort, ChainUnreachable, SubnetNotFound
from mycel_subnet.chain.sim import hints as sim_hints
from mycel_subnet.chain.types import MetagraphSnapshot, NeuronInfo
from mycel_subnet.config import MycelSettings
from mycel_subnet.exit_codes import ExitCode


class StartupError(Exception):
    """A neuron cannot start; ``code`` is the exit code, the message says why and what to do."""

    def __init__(self, code: ExitCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def open_hotkey_wallet(settings: MycelSettings) -> Any:
    """The wallet with its hotkey loaded now (only the hotkey file is needed on a node)."""
    import bittensor as bt

    w = settings.wallet
    wallet = bt.Wallet(w.name, w.hotkey, str(Path(w.path).expanduser()))
    if not wallet.hotkey_file.exists_on_device():
        raise StartupError(
            ExitCode.USAGE,
            f"hotkey file not found: there is no hotkey file at {wallet.hotkey_file.path}; "
            "create it with "
            f"`btcli wallet new-hotkey --wallet {w.name} --wallet-hotkey {w.hotkey}` "
            "or fix --wallet.path",
        )
    try:
        wallet.hotkey  # noqa: B018 - load the keypair now, not on the first request
    except Exception as error:
        raise StartupError(
            ExitCode.USAGE, f"cannot read hotkey {w.name}/{w.hotkey}: {error}"
        ) from None
    return wallet


def registered_neuron(
    chain: ChainPort, settings: MycelSettings, hotkey: str
) -> tuple[MetagraphSnapshot, NeuronInfo]:
    """The metagraph and this hotkey's neuron; StartupError when the chain, the subnet or the
    registration is missing."""
    try:
        graph = chain.metagraph()
    except ChainUnreachable as error:
        raise StartupError(ExitCode.UNAVAILABLE, f"chain unreachable: {error}") from None
    except SubnetNotFound as error:
        message = str(error)
        if chain.spec.is_sim:
            hint = sim_hints.subnet_hint(chain.spec.sim_path, settings.wallet.path)
            message += f"; create and start one with {hint}"
        raise StartupError(ExitCode.USAGE, message) from None
    me = graph.by_hotkey(hotkey)
    if me is None and chain.spec.is_sim:
        w = settings.wallet
        path, netuid = chain.spec.sim_path, settings.netuid
        hint = sim_hints.register_hint(path, netuid, w.name, w.hotkey, w.path)
        raise StartupError(
            ExitCode.NOT_REGISTERED,
            f"hotkey {hotkey} is not registered on netuid {settings.netuid} "
            f"({settings.subtensor.network}); register it with {hint}",
        )
    if me is None:
        raise StartupError(
            ExitCode.NOT_REGISTERED,
            f"hotkey {hotkey} is not registered on netuid {settings.netuid} "
            f"({settings.subtensor.network}); register it first, e.g. `btcli subnets register "
            f"--netuid {settings.netuid} --wallet {settings.wallet.name} "
            f"--wallet-hotkey {settings.wallet.hotkey}`",
        )
    return graph, me
