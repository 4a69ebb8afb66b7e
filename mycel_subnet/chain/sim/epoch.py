"""One subnet epoch on the sim chain: gather state, run Yuma, write results and emission back.

The consensus maths lives in ``mycel_subnet.chain.sim.yuma``; this module only moves numbers
between SQLite and its ``EpochInputs``/``EpochOutputs``. Validator permits are recomputed at each
epoch like subtensor does: the top ``max_validators`` neurons by stake (non-zero and at least
``min_stake_for_permit``; ties kept by the higher uid, as subtensor's stable top-k keeps them).
"""

from __future__ import annotations

import io
import json
import sqlite3
from typing import Any

import numpy as np

from mycel_subnet.chain.sim.params import RAO_PER_TAO, U16_MAX

VALIDATOR_EMISSION_SHARE = 0.5  # subtensor splits subnet emission 50/50 miners/validators


def load_bonds(conn: sqlite3.Connection, netuid: int, n: int) -> np.ndarray:
    row = conn.execute("SELECT n, data FROM bonds WHERE netuid=?", (netuid,)).fetchone()
    bonds = np.zeros((n, n), dtype=np.float64)
    if row is not None and row["data"] is not None:
        stored = np.load(io.BytesIO(row["data"]))
        m = min(n, stored.shape[0])
        bonds[:m, :m] = stored[:m, :m]
    return bonds


def save_bonds(conn: sqlite3.Connection, netuid: int, bonds: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(bonds, dtype=np.float32))
    conn.execute(
        "INSERT OR REPLACE INTO bonds (netuid, n, data) VALUES (?, ?, ?)",
        (netuid, int(bonds.shape[0]), buffer.getvalue()),
    )


def clear_bonds_for_uid(conn: sqlite3.Connection, netuid: int, uid: int) -> None:
    """A replaced neuron starts with no bonds held or owed."""
    row = conn.execute("SELECT n FROM bonds WHERE netuid=?", (netuid,)).fetchone()
    if row is None or uid >= row[0]:
        return
    bonds = load_bonds(conn, netuid, int(row[0]))
    bonds[uid, :] = 0.0
    bonds[:, uid] = 0.0
    save_bonds(conn, netuid, bonds)


def stakes_by_uid(conn: sqlite3.Connection, netuid: int, hotkeys: list[str]) -> np.ndarray:
    rows = conn.execute(
        "SELECT hotkey, SUM(alpha) FROM stakes WHERE netuid=? GROUP BY hotkey", (netuid,)
    )
    totals = {r[0]: int(r[1]) for r in rows}
    return np.array([totals.get(h, 0) for h in hotkeys], dtype=np.float64)


def permits(stake_rao: np.ndarray, max_validators: int, min_stake_rao: int) -> np.ndarray:
    """subtensor's ``is_topk_nonzero`` over stake below the threshold zeroed: an ascending
    stable sort drops the bottom n - k, so among equal stakes the higher uid keeps its permit."""
    stake = np.where(np.asarray(stake_rao) >= min_stake_rao, stake_rao, 0)
    n, k = len(stake), max(0, int(max_validators))
    chosen = np.asarray(stake > 0, dtype=bool)
    if n < k:
        return chosen
    ascending = sorted(range(n), key=lambda i: stake[i])  # Python's sort is stable
    for i in ascending[: n - k]:
        chosen[i] = False
    return chosen


def run_subnet_epoch(
    conn: sqlite3.Connection, netuid: int, block: int, emission_rao: int, hp: dict[str, Any]
) -> None:
    from mycel_subnet.chain.sim import yuma  # written separately; imported when an epoch runs

    neurons = conn.execute(
        "SELECT uid, hotkey, coldkey, last_update, registered_at, validator_permit "
        "FROM neurons WHERE netuid=? ORDER BY uid",
        (netuid,),
    ).fetchall()
    n = len(neurons)
    if n == 0:
        return
    hotkeys = [r["hotkey"] for r in neurons]
    stake = stakes_by_uid(conn, netuid, hotkeys)
    weights = np.zeros((n, n), dtype=np.float64)
    for row in conn.execute("SELECT uid, row FROM weights WHERE netuid=?", (netuid,)):
        if row["uid"] < n:
            for dest, value in json.loads(row["row"]):
                if dest < n:
                    weights[row["uid"], dest] = float(value)
    permit = np.array([bool(r["validator_permit"]) for r in neurons])
    inputs = yuma.EpochInputs(
        stake=stake / RAO_PER_TAO,
        weights=weights,
        bonds=load_bonds(conn, netuid, n),
        validator_permit=permit,
        last_update=np.array([r["last_update"] for r in neurons], dtype=np.int64),
        block_at_registration=np.array([r["registered_at"] for r in neurons], dtype=np.int64),
        current_block=int(block),
        emission=emission_rao / RAO_PER_TAO,
    )
    params = yuma.YumaParams(
        kappa=hp["kappa"] / U16_MAX,
        bonds_moving_average=hp["bonds_moving_avg"] / 1_000_000,
        liquid_alpha_enabled=bool(hp["liquid_alpha_enabled"]),
        alpha_low=hp["alpha_low"] / U16_MAX,
        alpha_high=hp["alpha_high"] / U16_MAX,
        alpha_sigmoid_steepness=float(hp.get("alpha_sigmoid_steepness", 1000)),
        yuma3_enabled=bool(hp["yuma3_enabled"]),
        bonds_penalty=hp["bonds_penalty"] / U16_MAX,
        activity_cutoff=int(hp["activity_cutoff"]),
        tempo=int(hp["tempo"]),
        min_stake=int(hp["min_stake_for_permit"]) / RAO_PER_TAO,
        validator_emission_share=VALIDATOR_EMISSION_SHARE,
    )
    out = yuma.run_epoch(inputs, params)
    emitted = np.asarray(out.server_emission) + np.asarray(out.validator_emission)
    emitted_rao = np.floor(np.clip(emitted, 0.0, None) * RAO_PER_TAO).astype(np.int64)
    new_permits = permits(stake, int(hp["max_validators"]), int(hp["min_stake_for_permit"]))

    def col(values: Any, i: int) -> float:
        return float(np.asarray(values, dtype=np.float64)[i])

    conn.executemany(
        "UPDATE neurons SET active=?, rank=?, trust=?, consensus=?, incentive=?, dividends=?, "
        "validator_trust=?, pruning_score=?, emission=?, validator_permit=? "
        "WHERE netuid=? AND uid=?",
        [
            (
                int(bool(np.asarray(out.active)[i])),
                col(out.rank, i),
                col(out.trust, i),
                col(out.consensus, i),
                col(out.incentive, i),
                col(out.dividends, i),
                col(out.validator_trust, i),
                col(out.pruning_scores, i),
                int(emitted_rao[i]),
                int(new_permits[i]),
                netuid,
                int(r["uid"]),
            )
            for i, r in enumerate(neurons)
        ],
    )
    # emission credits the stake the neuron's own coldkey holds on its hotkey
    conn.executemany(
        "INSERT INTO stakes (hotkey, coldkey, netuid, alpha) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(hotkey, coldkey, netuid) DO UPDATE SET alpha = alpha + excluded.alpha",
        [
            (r["hotkey"], r["coldkey"], netuid, int(emitted_rao[i]))
            for i, r in enumerate(neurons)
            if emitted_rao[i] > 0
        ],
    )
    # like subtensor, bonds are kept only for uids that hold a permit after this epoch
    bonds = np.asarray(out.bonds, dtype=np.float64).copy()
    bonds[~new_permits, :] = 0.0
    save_bonds(conn, netuid, bonds)
