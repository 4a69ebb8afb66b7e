"""Gas on the compiled WASM, for the largest inputs each method accepts: every call stays at
or under half of NEAR's 300 Tgas, and find_patterns pages through a domain at its 1000-pattern
cap without a trap (it trapped at 814-816 matches in one call before it paged). The estimate is
wasm_vm's (fuel x NEAR's per-instruction cost + NEAR's host-function costs); the cases are
tests/near/gas_cases.py, printed by benchmarks/bench_contract_gas.py."""

from __future__ import annotations

import pytest

from tests.near.gas_cases import DOMAIN, registry_cases, reputation_cases
from tests.near.twin import CID, DEPOSIT, HALF_NEAR_LIMIT, Twin

_DEP = DEPOSIT
_FILLER = {"metadata_cid": CID, "domain": DOMAIN, "price_per_use": "1"}


def _over(cases):
    return [(label, run.gas.used) for label, run in cases if run.gas.used > HALF_NEAR_LIMIT]


@pytest.fixture(scope="module")
def registry_world():
    return registry_cases()


@pytest.fixture(scope="module")
def registry_runs(registry_world):
    return registry_world[1]


def test_registry_methods_stay_under_half_the_gas_limit(registry_runs):
    assert len(registry_runs) >= 20
    assert _over(registry_runs) == []
    assert all(run.gas.instructions > 0 for _, run in registry_runs)


def test_find_patterns_pages_through_the_domain_cap(registry_runs):
    pages = [run for label, run in registry_runs if label.startswith("find_patterns from")]
    found = [p["id"] for run in pages for p in run.result["patterns"]]
    assert len(found) == len(set(found)) == 1000 - 1  # one of the 1000 is quarantined
    assert pages[-1].result["next_index"] is None
    assert len(pages) == 10


def test_the_domain_cap_refuses_alike(registry_world):
    """The 1000th pattern was removed and registered again (gas cases); one more is refused
    with the message, not a trap."""
    twin: Twin = registry_world[0]
    twin("register_pattern", {**_FILLER, "pattern_hash": "d" * 64}, "late.near", deposit=_DEP)
    args = {
        "pattern_hash": "e" * 64,
        "metadata_cid": "Qm" + "Y" * 44,
        "domain": DOMAIN,
        "price_per_use": "1",
    }
    twin.refused("Domain is full", "register_pattern", args, "late.near", deposit=_DEP)


def test_reputation_methods_stay_under_half_the_gas_limit():
    runs = reputation_cases()
    assert _over(runs) == []
    runs = dict(runs)
    for part in (0, 1):
        rewards = runs[f"record_validator_rewards (128 bound hotkeys, part {part})"]
        assert rewards.result["credited"] == 128 and rewards.result["part"] == part


def test_the_meter_counts_the_work(registry_runs):
    """A page of 100 records runs far more instructions and reads than one record."""
    runs = dict(registry_runs)
    page, one = runs["find_patterns from 0 (limit 100, all match)"], runs["get_pattern"]
    assert page.gas.instructions > 10 * one.gas.instructions
    assert page.gas.burnt > 10 * one.gas.burnt > 0
