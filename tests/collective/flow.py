"""Checks shared by the CLI and the HTTP API end-to-end tests."""

from __future__ import annotations

from mycel_subnet.near.ledger import DEFAULT_REGISTRY, LocalLedger
from tests.privacy.corpus.judge import find_leaks

PRICE = 12_345_678_901_234_567_890_123  # odd: the 5% fee is rounded down, the 95% gets the rest
FEE_BPS = 500


def no_leaks(items, *exposed) -> None:
    leaks = [leak for thing in exposed for leak in find_leaks("collective", items, thing)]
    assert not leaks, "\n".join(str(leak) for leak in leaks)


def balances(ledger_path, *accounts) -> tuple[list[int], int]:
    """Balances of `accounts` and the registry's collected fees, in yoctoNEAR."""
    with LocalLedger(ledger_path) as ledger:
        fees = int(ledger.view(DEFAULT_REGISTRY, "get_config", {})["fees_collected"])
        return [ledger.balance(a) for a in accounts], fees


def expected_split(price: int) -> tuple[int, int]:
    fee = price * FEE_BPS // 10_000
    return price - fee, fee
