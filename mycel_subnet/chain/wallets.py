"""Create coldkey/hotkey wallets without prompts, for the devnet and tests.

An unencrypted coldkey holds real funds on a real network, so creating one needs the explicit
``devnet=True`` flag. Mnemonics are never printed or logged (``suppress=True``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class UnsafeWalletError(ValueError):
    """Refused: an unencrypted coldkey was asked for without saying it is for a devnet."""


def _check_names(name: str, hotkey: str) -> None:
    for label, value in (("wallet name", name), ("hotkey name", hotkey)):
        if not value or "/" in value or "\\" in value or value in (".", ".."):
            raise ValueError(f"invalid {label} {value!r}: use a plain name without slashes")


def create_wallet(
    name: str,
    hotkey: str = "default",
    path: str | Path = "~/.bittensor/wallets",
    *,
    devnet: bool = False,
    overwrite: bool = False,
) -> Any:
    """Create (or reuse) a wallet with an unencrypted coldkey and hotkey; needs ``devnet=True``.

    Existing keys are kept unless ``overwrite``; returns the ``bt.Wallet``.
    """
    if not devnet:
        raise UnsafeWalletError(
            "refusing to create an unencrypted coldkey: pass devnet=True only for a local "
            "devnet or tests; use `btcli wallet create` (password-protected) for real funds"
        )
    _check_names(name, hotkey)
    import bittensor as bt

    wallet = bt.Wallet(name, hotkey, str(Path(path).expanduser()))
    if overwrite or not wallet.coldkeypub_file.exists_on_device():
        wallet.create_new_coldkey(use_password=False, suppress=True, overwrite=overwrite)
    if overwrite or not wallet.hotkey_file.exists_on_device():
        wallet.create_new_hotkey(use_password=False, suppress=True, overwrite=overwrite)
    log.info("devnet wallet %s/%s ready (coldkey %s)", name, hotkey, wallet.coldkeypub.ss58_address)
    return wallet


def create_hotkey(
    name: str, hotkey: str, path: str | Path = "~/.bittensor/wallets", *, overwrite: bool = False
) -> Any:
    """Add a hotkey to an existing wallet (hotkeys are unencrypted on every network)."""
    _check_names(name, hotkey)
    import bittensor as bt

    wallet = bt.Wallet(name, hotkey, str(Path(path).expanduser()))
    if overwrite or not wallet.hotkey_file.exists_on_device():
        wallet.create_new_hotkey(use_password=False, suppress=True, overwrite=overwrite)
    return wallet
