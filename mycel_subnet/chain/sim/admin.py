"""Devnet and test administration of a sim chain: genesis, faucet, hyperparameters, blocks.

These act as the chain's root (sudo) would; they bypass the SDK on purpose, except
``create_subnet`` which goes through the SDK's own RegisterSubnet/StartCall intents so the
devnet subnet is created exactly as a user's would be.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mycel_subnet.chain.sim.chain import SimChain
from mycel_subnet.chain.sim.params import DEFAULT_HPARAMS, RAO_PER_TAO, GenesisConfig
from mycel_subnet.chain.sim.store import check_chain_file

ChainLike = SimChain | str | Path


def open_chain(chain: ChainLike) -> SimChain:
    return chain if isinstance(chain, SimChain) else SimChain(chain)


def open_existing(path: str | Path) -> SimChain:
    """The chain at ``path``, which must exist with a genesis (never creates one)."""
    return SimChain(check_chain_file(path))


def create_chain(
    path: str | Path, config: GenesisConfig | None = None, *, exist_ok: bool = True
) -> SimChain:
    """Create the chain file with its genesis (kept as is when it exists and exist_ok)."""
    chain = SimChain(path)
    chain.init_genesis(config, exist_ok=exist_ok)
    return chain


def fund(chain: ChainLike, ss58: str, tao: float) -> int:
    """Faucet: mint ``tao`` to an account. Returns its new free balance in rao."""
    if tao <= 0:
        raise ValueError(f"faucet amount must be > 0 TAO, got {tao}")
    sim = open_chain(chain)
    with sim.store.write() as conn:
        sim._meta(conn, "genesis_time")  # refuse a file without genesis
        sim.credit(conn, ss58, round(tao * RAO_PER_TAO))
        return sim.free(conn, ss58)


def balance(chain: ChainLike, ss58: str) -> float:
    sim = open_chain(chain)
    with sim.store.read() as conn:
        return sim.free(conn, ss58) / RAO_PER_TAO


def set_hyperparameter(chain: ChainLike, netuid: int, name: str, value: Any) -> None:
    """Set any subnet hyperparameter as root would (raw on-chain value, e.g. u16 fractions)."""
    if name not in DEFAULT_HPARAMS:
        raise ValueError(f"unknown hyperparameter {name!r}; known: {sorted(DEFAULT_HPARAMS)}")
    default = DEFAULT_HPARAMS[name]
    if isinstance(default, bool):
        coerced: Any = bool(value)
    elif isinstance(default, int):
        coerced = int(value)
        if coerced < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    else:
        coerced = value
    sim = open_chain(chain)
    with sim.store.write() as conn:
        row = sim.subnet(conn, netuid)
        if row is None:
            raise ValueError(f"no subnet {netuid} on the sim chain")
        hp = json.loads(row["hparams"])
        hp[name] = coerced
        conn.execute("UPDATE subnets SET hparams=? WHERE netuid=?", (json.dumps(hp), netuid))


def advance_blocks(chain: ChainLike, blocks: int) -> int:
    """Manual mode: advance the head by ``blocks`` and run the epochs due. Returns the head."""
    return open_chain(chain).advance(blocks)


def run_pending_epochs(chain: ChainLike) -> int:
    """Run every epoch that is due at the current head. Returns the head."""
    return open_chain(chain).head()


def store_drand_pulse(chain: ChainLike, round_: int, signature: str | bytes) -> list[str]:
    """Put drand quicknet round ``round_``'s signature on the chain, as pallet_drand's offchain
    worker does on a node, and reveal the timelocked weight commits it opens now (those in
    their reveal epoch). Returns the hotkeys whose weights were revealed. See
    ``mycel_subnet.chain.sim.commit_reveal`` for why an offline sim has no pulses of its own."""
    from mycel_subnet.chain.sim import commit_reveal

    sim = open_chain(chain)
    with sim.store.write() as conn:
        block = sim.current_block(conn)
        sim._run_pending(conn, block)
        return commit_reveal.store_pulse(sim, conn, round_, signature, block)


def fetch_drand_pulses(chain: ChainLike, fetch: Any = None) -> list[int]:
    """Fetch the pulses pending commits wait for, once their rounds have been published.

    ``fetch(round) -> signature hex`` defaults to ``bittensor_core.get_signature_for_round``,
    which asks drand's HTTP API: this is the one sim function that uses the network, and only
    when called. Returns the rounds stored.
    """
    import time

    from bittensor import timelock

    from mycel_subnet.chain.sim import commit_reveal

    if fetch is None:
        import bittensor_core

        fetch = bittensor_core.get_signature_for_round
    sim = open_chain(chain)
    sim.sync()
    with sim.store.read() as conn:
        wanted = sorted(
            {
                int(r[0])
                for r in conn.execute("SELECT DISTINCT reveal_round FROM timelocked_commits")
                if commit_reveal.pulse(conn, int(r[0])) is None
            }
        )
    published = timelock.current_round(time.time())
    stored = []
    for round_ in wanted:
        if round_ > published:
            continue
        store_drand_pulse(sim, round_, fetch(round_))  # network I/O outside the write lock
        stored.append(round_)
    return stored


def create_subnet(chain: ChainLike, owner_wallet: Any, *, fund_owner: bool = True) -> int:
    """Register and start a subnet owned by ``owner_wallet`` (coldkey + hotkey) via the SDK.

    With ``fund_owner`` the faucet first gives the coldkey the network lock cost. Returns netuid.
    """
    import bittensor as bt

    from mycel_subnet.chain.sim.substrate import SimSubstrate

    sim = open_chain(chain)
    coldkey = owner_wallet.coldkeypub.ss58_address
    if fund_owner:
        with sim.store.read() as conn:
            cost = sim.meta_int(conn, "network_lock_cost")
        fund(sim, coldkey, cost / RAO_PER_TAO + 1.0)
    client = bt.Subtensor("local", substrate=SimSubstrate(chain=sim))
    try:
        result = client.execute(bt.RegisterSubnet(), owner_wallet)
        if not result.success:
            raise RuntimeError(f"RegisterSubnet failed on the sim chain: {result.message}")
        netuid = int(result.data["netuid"])
        started = client.execute(bt.StartCall(netuid=netuid), owner_wallet)
        if not started.success:
            raise RuntimeError(f"StartCall failed on the sim chain: {started.message}")
        return netuid
    finally:
        client.close()
