"""Storage items, runtime APIs and constants the SDK reads, answered from the sim's tables.

Values are the decoded Python shapes a node returns (see the SDK sdist's golden fixtures). An
item the sim does not model raises ``NotImplementedError`` naming it: a silent default would let
a caller act on a value the sim never computed.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from mycel_subnet.chain.sim import commit_reveal
from mycel_subnet.chain.sim.chain import SimChain
from mycel_subnet.chain.sim.epoch import stakes_by_uid
from mycel_subnet.chain.sim.params import RAO_PER_TAO, U16_MAX, tagged

SPEC_VERSION = 400

_HPARAM_ITEMS = {
    "Tempo": "tempo",
    "WeightsSetRateLimit": "weights_rate_limit",
    "MinAllowedWeights": "min_allowed_weights",
    "MaxWeightsLimit": "max_weights_limit",
    "CommitRevealWeightsEnabled": "commit_reveal_weights_enabled",
    "RevealPeriodEpochs": "commit_reveal_period",
    "ImmunityPeriod": "immunity_period",
    "Burn": "burn",
    "MinBurn": "min_burn",
    "MaxBurn": "max_burn",
    "MaxAllowedUids": "max_allowed_uids",
    "MaxAllowedValidators": "max_validators",
    "WeightsVersionKey": "weights_version",
    "ServingRateLimit": "serving_rate_limit",
    "Kappa": "kappa",
    "Rho": "rho",
    "ActivityCutoff": "activity_cutoff",
    "BondsMovingAverage": "bonds_moving_avg",
    "BondsPenalty": "bonds_penalty",
    "LiquidAlphaOn": "liquid_alpha_enabled",
    "Yuma3On": "yuma3_enabled",
    "NetworkRegistrationAllowed": "registration_allowed",
    "SubnetEpochConsensus": "epoch_consensus",
    "StakeThreshold": "min_stake_for_permit",
}

# Per-uid vector items (keyed by netuid) -> neurons column.
_VECTOR_ITEMS = {
    "LastUpdate": "last_update",
    "ValidatorPermit": "validator_permit",
    "Active": "active",
    "BlockAtRegistration": "registered_at",
    "Emission": "emission",
}
_SCORE_ITEMS = {
    "Incentive": "incentive",
    "Dividends": "dividends",
    "Consensus": "consensus",
    "Trust": "trust",
    "Rank": "rank",
    "ValidatorTrust": "validator_trust",
    "PruningScores": "pruning_score",
}


def _u16(x: float) -> int:
    return max(0, min(U16_MAX, round(float(x) * U16_MAX)))


def _column(conn: sqlite3.Connection, netuid: int, column: str) -> list:
    rows = conn.execute(f"SELECT {column} FROM neurons WHERE netuid=? ORDER BY uid", (netuid,))
    return [r[0] for r in rows]


def query(chain: SimChain, conn: sqlite3.Connection, module: str, item: str, params: list) -> Any:
    p = list(params or [])
    if (module, item) == ("System", "Account"):
        row = conn.execute("SELECT free, nonce FROM accounts WHERE ss58=?", (p[0],)).fetchone()
        free, nonce = (int(row[0]), int(row[1])) if row else (0, 0)
        return {
            "nonce": nonce,
            "consumers": 0,
            "providers": 1 if free else 0,
            "sufficients": 0,
            "data": {"free": free, "reserved": 0, "frozen": 0, "flags": 0},
        }
    if (module, item) == ("System", "Number"):
        return chain.current_block(conn)
    if (module, item) == ("Timestamp", "Now"):
        return chain.timestamp_ms(conn, chain.current_block(conn))
    if (module, item) == ("MevShield", "NextKey"):
        return None  # the sim has no MEV shield pallet; the SDK then submits in the clear
    if (module, item) == ("Drand", "LastStoredRound"):
        return commit_reveal.last_stored_round(conn)
    if (module, item) == ("Drand", "Pulses"):
        return commit_reveal.pulse_record(conn, int(p[0]))
    if module != "SubtensorModule":
        raise NotImplementedError(f"the sim chain does not model storage {module}.{item}")
    if item in _HPARAM_ITEMS:
        hp = chain.hparams(conn, p[0])
        return hp.get(_HPARAM_ITEMS[item]) if hp else None
    if item == "NetworksAdded":
        return chain.subnet(conn, p[0]) is not None
    if item in _EPOCH_ITEMS:
        return _epoch_item(chain, conn, item, int(p[0]))
    if item == "CommitRevealWeightsVersion":
        return commit_reveal.COMMIT_REVEAL_VERSION
    if item == "TimelockedWeightCommits":  # keyed (mechanism index, epoch); mechanism 0 only
        commits = dict(commit_reveal.pending_commits(conn, int(p[0])))
        return commits.get(int(p[1]), [])
    if item == "TotalNetworks":
        return conn.execute("SELECT COUNT(*) FROM subnets").fetchone()[0]
    if item in ("SubnetOwner", "SubnetOwnerHotkey", "SubnetLocked", "NetworkRegisteredAt"):
        row = chain.subnet(conn, p[0])
        column = {
            "SubnetOwner": "owner_coldkey",
            "SubnetOwnerHotkey": "owner_hotkey",
            "SubnetLocked": "locked",
            "NetworkRegisteredAt": "registered_at",
        }[item]
        return None if row is None else row[column]
    if item == "FirstEmissionBlockNumber":
        row = chain.subnet(conn, p[0])
        return None if row is None else row["start_block"]
    if item == "SubnetworkN":
        return conn.execute("SELECT COUNT(*) FROM neurons WHERE netuid=?", (p[0],)).fetchone()[0]
    if item == "Uids":
        return chain.uid_of(conn, p[0], p[1])
    if item == "Keys":
        row = conn.execute(
            "SELECT hotkey FROM neurons WHERE netuid=? AND uid=?", (p[0], p[1])
        ).fetchone()
        return None if row is None else row[0]
    if item == "IsNetworkMember":
        row = conn.execute(
            "SELECT 1 FROM neurons WHERE hotkey=? AND netuid=?", (p[0], p[1])
        ).fetchone()
        return row is not None
    if item == "Owner":
        return chain.hotkey_owner(conn, p[0])
    if item == "Axons":
        return _axon(conn, p[0], p[1])
    if item in _VECTOR_ITEMS:
        values = _column(conn, p[0], _VECTOR_ITEMS[item])
        return [bool(v) for v in values] if item in ("ValidatorPermit", "Active") else values
    if item in _SCORE_ITEMS:
        return [_u16(v) for v in _column(conn, p[0], _SCORE_ITEMS[item])]
    if item == "Weights":
        row = conn.execute(
            "SELECT row FROM weights WHERE netuid=? AND uid=?", (p[0], p[1])
        ).fetchone()
        return [] if row is None else [tuple(pair) for pair in json.loads(row[0])]
    if item == "TotalHotkeyAlpha":
        row = conn.execute(
            "SELECT COALESCE(SUM(alpha), 0) FROM stakes WHERE hotkey=? AND netuid=?", (p[0], p[1])
        ).fetchone()
        return int(row[0])
    if item in ("CurrentDissolveCleanupStatus", "DissolveCleanupQueue", "NetworkRegistrationQueue"):
        return None  # the sim never queues subnet registrations
    raise NotImplementedError(f"the sim chain does not model storage SubtensorModule.{item}")


def query_map(
    chain: SimChain, conn: sqlite3.Connection, module: str, item: str, params: list
) -> list[tuple[Any, Any]]:
    p = list(params or [])
    if (module, item) == ("SubtensorModule", "TokenSymbol"):
        return [(r[0], r[1]) for r in conn.execute("SELECT netuid, symbol FROM subnets")]
    if (module, item) == ("SubtensorModule", "NetworksAdded"):
        return [(r[0], True) for r in conn.execute("SELECT netuid FROM subnets")]
    if (module, item) == ("SubtensorModule", "Uids"):
        rows = conn.execute("SELECT hotkey, uid FROM neurons WHERE netuid=?", (p[0],))
        return [(r[0], r[1]) for r in rows]
    if (module, item) == ("SubtensorModule", "Keys"):
        rows = conn.execute("SELECT uid, hotkey FROM neurons WHERE netuid=? ORDER BY uid", (p[0],))
        return [(r[0], r[1]) for r in rows]
    if (module, item) == ("SubtensorModule", "Tempo"):
        return [
            (r["netuid"], json.loads(r["hparams"])["tempo"])
            for r in conn.execute("SELECT netuid, hparams FROM subnets")
        ]
    if (module, item) == ("SubtensorModule", "Weights"):
        rows = conn.execute("SELECT uid, row FROM weights WHERE netuid=? ORDER BY uid", (p[0],))
        return [(r[0], [tuple(pair) for pair in json.loads(r[1])]) for r in rows]
    if (module, item) == ("SubtensorModule", "TimelockedWeightCommits"):
        return commit_reveal.pending_commits(conn, int(p[0]))
    if module == "Commitments" and item in ("CommitmentOf", "RevealedCommitments"):
        return []  # the sim has no Commitments pallet state: nobody can have committed
    raise NotImplementedError(f"the sim chain does not model storage map {module}.{item}")


_EPOCH_ITEMS = ("SubnetEpochIndex", "LastEpochBlock", "PendingEpochAt", "BlocksSinceLastStep")


def _epoch_item(chain: SimChain, conn: sqlite3.Connection, item: str, netuid: int) -> int | None:
    """The epoch schedule state the SDK reads to pick a commit's drand reveal round."""
    row = chain.subnet(conn, netuid)
    if row is None:
        return None
    if item == "SubnetEpochIndex":
        return commit_reveal.epoch_index(conn, netuid)
    if item == "LastEpochBlock":
        return int(row["last_epoch"])
    if item == "PendingEpochAt":
        return 0  # the sim has no owner-triggered epochs
    return max(0, chain.current_block(conn) - int(row["last_epoch"]))


def _axon(conn: sqlite3.Connection, netuid: int, hotkey: str) -> dict | None:
    row = conn.execute(
        "SELECT * FROM axons WHERE netuid=? AND hotkey=?", (netuid, hotkey)
    ).fetchone()
    if row is None:
        return None
    return {
        "block": row["block"],
        "version": row["version"],
        "ip": row["ip"],
        "port": row["port"],
        "ip_type": row["ip_type"],
        "protocol": row["protocol"],
        "placeholder1": 0,
        "placeholder2": 0,
    }


_EMPTY_AXON = {
    "block": 0,
    "version": 0,
    "ip": 0,
    "port": 0,
    "ip_type": 0,
    "protocol": 0,
    "placeholder1": 0,
    "placeholder2": 0,
}


def metagraph(chain: SimChain, conn: sqlite3.Connection, netuid: int) -> dict | None:
    """``SubnetInfoRuntimeApi.get_metagraph``: the fields the SDK's metagraph decoder lifts."""
    subnet = chain.subnet(conn, netuid)
    if subnet is None:
        return None
    hp = json.loads(subnet["hparams"])
    block = chain.current_block(conn)
    rows = conn.execute("SELECT * FROM neurons WHERE netuid=? ORDER BY uid", (netuid,)).fetchall()
    hotkeys = [r["hotkey"] for r in rows]
    axons = {r["hotkey"]: _axon(conn, netuid, r["hotkey"]) or dict(_EMPTY_AXON) for r in rows}
    stake = [int(s) for s in stakes_by_uid(conn, netuid, hotkeys)]
    total_alpha = sum(stake)
    return {
        "netuid": netuid,
        "name": subnet["name"],
        "symbol": subnet["symbol"],
        "identity": None,
        "network_registered_at": subnet["registered_at"],
        "owner_hotkey": subnet["owner_hotkey"],
        "owner_coldkey": subnet["owner_coldkey"],
        "block": block,
        "tempo": hp["tempo"],
        "last_step": subnet["last_epoch"],
        "blocks_since_last_step": max(0, block - subnet["last_epoch"]),
        "subnet_emission": 0,
        "alpha_in": max(total_alpha, RAO_PER_TAO),
        "alpha_out": total_alpha,
        "tao_in": max(total_alpha, RAO_PER_TAO),  # fixed price: 1 alpha = 1 TAO
        "moving_price": {"bits": 2**32},
        "num_uids": len(rows),
        "max_uids": hp["max_allowed_uids"],
        "burn": hp["burn"],
        "difficulty": 0,
        "registration_allowed": hp["registration_allowed"],
        "immunity_period": hp["immunity_period"],
        "min_allowed_weights": hp["min_allowed_weights"],
        "max_weights_limit": hp["max_weights_limit"],
        "weights_version": hp["weights_version"],
        "weights_rate_limit": hp["weights_rate_limit"],
        "activity_cutoff": hp["activity_cutoff"],
        "max_validators": hp["max_validators"],
        "commit_reveal_weights_enabled": hp["commit_reveal_weights_enabled"],
        "hotkeys": hotkeys,
        "coldkeys": [r["coldkey"] for r in rows],
        "identities": [None] * len(rows),
        "axons": [axons[h] for h in hotkeys],
        "active": [bool(r["active"]) for r in rows],
        "validator_permit": [bool(r["validator_permit"]) for r in rows],
        "pruning_score": [_u16(r["pruning_score"]) for r in rows],
        "last_update": [r["last_update"] for r in rows],
        "emission": [r["emission"] for r in rows],
        "dividends": [_u16(r["dividends"]) for r in rows],
        "incentives": [_u16(r["incentive"]) for r in rows],
        "consensus": [_u16(r["consensus"]) for r in rows],
        "trust": [_u16(r["trust"]) for r in rows],
        "rank": [_u16(r["rank"]) for r in rows],
        "validator_trust": [_u16(r["validator_trust"]) for r in rows],
        "block_at_registration": [r["registered_at"] for r in rows],
        "alpha_stake": stake,
        "tao_stake": [0] * len(rows),
        "total_stake": stake,
    }


def runtime(chain: SimChain, conn: sqlite3.Connection, api: str, method: str, params: Any) -> Any:
    p = params
    if (api, method) == ("SubnetInfoRuntimeApi", "get_metagraph"):
        return metagraph(chain, conn, int(p[0]))
    if (api, method) == ("SubnetInfoRuntimeApi", "get_subnet_hyperparams_v3"):
        hp = chain.hparams(conn, int(p[0]))
        if not hp:
            return None
        return [{"name": name, "value": tagged(name, value)} for name, value in hp.items()]
    if (api, method) == ("SwapRuntimeApi", "current_alpha_price"):
        return RAO_PER_TAO  # the sim keeps every subnet's pool at 1 TAO per alpha
    if (api, method) == ("SwapRuntimeApi", "sim_swap_tao_for_alpha"):
        tao = int(p["tao"] if isinstance(p, dict) else p[1])
        return {"tao_amount": tao, "alpha_amount": tao, "tao_fee": 0, "alpha_fee": 0}
    if (api, method) == ("SubnetRegistrationRuntimeApi", "get_network_registration_cost"):
        return chain.meta_int(conn, "network_lock_cost")
    raise NotImplementedError(f"the sim chain does not implement runtime API {api}.{method}")


def constant(chain: SimChain, conn: sqlite3.Connection, module: str, name: str) -> Any:
    if (module, name) == ("Aura", "SlotDuration"):
        return int(float(chain._meta(conn, "block_time")) * 1000)
    if (module, name) == ("Balances", "ExistentialDeposit"):
        return chain.meta_int(conn, "existential_deposit")
    if (module, name) == ("System", "SS58Prefix"):
        return 42
    if (module, name) == ("SubtensorModule", "InitialStartCallDelay"):
        return chain.meta_int(conn, "start_call_delay")
    raise NotImplementedError(f"the sim chain does not define constant {module}.{name}")
