"""The sim chain's state machine: blocks, extrinsic dispatch and epochs over one SQLite file.

Every state transition runs in one ``BEGIN IMMEDIATE`` transaction that first catches up any
pending epochs, so several processes sharing a chain file need no block-producing daemon: whoever
touches the chain first runs what is due. Dispatch errors use subtensor's own error names so the
SDK classifies them exactly as it would a node's.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bittensor._generated.errors import ERRORS

from mycel_subnet.chain.sim import epoch as epoch_mod
from mycel_subnet.chain.sim.params import (
    ADMIN_SETTERS,
    DEFAULT_HPARAMS,
    RAO_PER_TAO,
    U16_MAX,
    GenesisConfig,
)
from mycel_subnet.chain.sim.store import (  # noqa: F401 - the errors are re-exported here
    SCHEMA_VERSION,
    ChainFileMissing,
    ChainNotInitialised,
    NotAChainFile,
    Store,
    create_hint,
)

_ERROR_DOCS = {(info.pallet, info.name): info.docs for info in ERRORS.values()}
MIN_STAKE_RAO = 2_000_000  # subtensor's DefaultMinStake (0.002 TAO)
EVENTS_KEPT_BLOCKS = 2000


class DispatchError(Exception):
    """A call the chain rejected, named as subtensor names it (e.g. ``SettingWeightsTooFast``)."""

    def __init__(self, name: str, pallet: str = "SubtensorModule", detail: str = "") -> None:
        self.name = name
        self.pallet = pallet
        docs = _ERROR_DOCS.get((pallet, name), name)
        self.docs = f"{docs} ({detail})" if detail else docs
        super().__init__(f"{pallet}.{name}: {self.docs}")


@dataclass(frozen=True)
class Applied:
    """Where an extrinsic landed and what it emitted."""

    block: int
    index: int
    events: list[dict]
    error: DispatchError | None = None


def _event(module: str, event: str, attributes: Any, index: int) -> dict:
    body = {"module_id": module, "event_id": event, "attributes": attributes}
    return {"phase": "ApplyExtrinsic", "extrinsic_idx": index, "event": body, **body, "topics": []}


class SimChain:
    """Chain logic over a :class:`Store`. Thread-safe (the store serialises access)."""

    def __init__(self, path: str | Path) -> None:
        self.store = Store(path)
        self._meta_cache: dict[str, str] = {}

    # -- genesis and meta ----------------------------------------------------------

    def init_genesis(self, config: GenesisConfig | None = None, *, exist_ok: bool = True) -> bool:
        """Write genesis once. Returns False when the file already had one (and exist_ok)."""
        config = config or GenesisConfig()
        if config.block_time_s <= 0:
            raise ValueError(f"block_time_s must be > 0, got {config.block_time_s}")
        hparams = config.subnet_hparams()
        with self.store.write() as conn:
            if conn.execute("SELECT 1 FROM meta WHERE key='genesis_time'").fetchone():
                if not exist_ok:
                    raise FileExistsError(f"chain file {self.store.path} already has a genesis")
                return False
            values = {
                "schema_version": SCHEMA_VERSION,
                "genesis_time": repr(time.time()),
                "block_time": repr(float(config.block_time_s)),
                "mode": "manual" if config.manual else "clock",
                "manual_block": "1",
                "emission_per_block": str(int(config.emission_per_block_rao)),
                "network_lock_cost": str(int(config.network_lock_cost_rao)),
                "start_call_delay": str(int(config.start_call_delay)),
                "existential_deposit": str(int(config.existential_deposit_rao)),
                "max_catchup_epochs": str(int(config.max_catchup_epochs)),
                "default_hparams": json.dumps(hparams),
            }
            conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", values.items())
        return True

    def _meta(self, conn: sqlite3.Connection, key: str) -> str:
        if key in self._meta_cache:
            return self._meta_cache[key]
        row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        if row is None:
            raise ChainNotInitialised(
                f"sim chain {self.store.path} has no genesis; {create_hint(self.store.path)}"
            )
        if key not in ("manual_block", "default_hparams"):
            self._meta_cache[key] = row[0]  # immutable after genesis
        return row[0]

    def meta_int(self, conn: sqlite3.Connection, key: str) -> int:
        return int(self._meta(conn, key))

    def is_manual(self, conn: sqlite3.Connection) -> bool:
        return self._meta(conn, "mode") == "manual"

    def block_time(self) -> float:
        with self.store.read() as conn:
            return float(self._meta(conn, "block_time"))

    def genesis_time(self) -> float:
        with self.store.read() as conn:
            return float(self._meta(conn, "genesis_time"))

    def current_block(self, conn: sqlite3.Connection) -> int:
        if self.is_manual(conn):
            return int(self._meta(conn, "manual_block"))
        genesis = float(self._meta(conn, "genesis_time"))
        return 1 + int((time.time() - genesis) / float(self._meta(conn, "block_time")))

    def timestamp_ms(self, conn: sqlite3.Connection, block: int) -> int:
        genesis = float(self._meta(conn, "genesis_time"))
        return int((genesis + (block - 1) * float(self._meta(conn, "block_time"))) * 1000)

    # -- blocks and epochs ----------------------------------------------------------

    def head(self) -> int:
        """The current block, after running any epoch that is due."""
        self.sync()
        with self.store.read() as conn:
            return self.current_block(conn)

    def sync(self) -> None:
        """Run pending epochs (cheap read first; the write lock only when one is due)."""
        with self.store.read() as conn:
            due = self._epochs_due(conn, self.current_block(conn))
        if due:
            with self.store.write() as conn:
                self._run_pending(conn, self.current_block(conn))

    def advance(self, blocks: int) -> int:
        """Manual mode: move the head forward and run the epochs that fall due."""
        if blocks < 0:
            raise ValueError(f"blocks must be >= 0, got {blocks}")
        with self.store.write() as conn:
            if not self.is_manual(conn):
                raise RuntimeError("advance() needs a chain created in manual mode")
            block = self.current_block(conn) + blocks
            conn.execute("UPDATE meta SET value=? WHERE key='manual_block'", (str(block),))
            self._run_pending(conn, block)
        return block

    def _epochs_due(self, conn: sqlite3.Connection, block: int) -> bool:
        for row in conn.execute(
            "SELECT last_epoch, hparams FROM subnets WHERE start_block IS NOT NULL"
        ):
            tempo = int(json.loads(row["hparams"])["tempo"])
            if tempo > 0 and block >= row["last_epoch"] + tempo:
                return True
        return False

    def _run_pending(self, conn: sqlite3.Connection, block: int) -> None:
        from mycel_subnet.chain.sim import commit_reveal  # it builds on this module

        max_catchup = self.meta_int(conn, "max_catchup_epochs")
        per_block = self.meta_int(conn, "emission_per_block")
        rows = conn.execute(
            "SELECT netuid, last_epoch, hparams FROM subnets WHERE start_block IS NOT NULL"
        ).fetchall()
        for row in rows:
            hparams = json.loads(row["hparams"])
            tempo = int(hparams["tempo"])
            if tempo <= 0 or block < row["last_epoch"] + tempo:
                continue
            due = (block - row["last_epoch"]) // tempo
            at = row["last_epoch"] + max(0, due - max_catchup) * tempo
            while at + tempo <= block:
                at += tempo
                # commit-reveal: commits still waiting in their reveal epoch get another try
                # before the epoch (a pulse may have come), the next epoch's after it
                commit_reveal.reveal(self, conn, row["netuid"], at)
                epoch_mod.run_subnet_epoch(conn, row["netuid"], at, per_block * tempo, hparams)
                commit_reveal.count_epoch(conn, row["netuid"])
                commit_reveal.reveal(self, conn, row["netuid"], at)
            conn.execute("UPDATE subnets SET last_epoch=? WHERE netuid=?", (at, row["netuid"]))

    # -- dispatch ---------------------------------------------------------------------

    def apply(self, module: str, function: str, params: dict, signer: str) -> Applied:
        """Apply one signed call atomically; a rejected call changes nothing but the nonce."""
        handler = _HANDLERS.get((module, function))
        if handler is None and module == "AdminUtils":
            handler = _admin_setter
        if handler is None:
            raise NotImplementedError(
                f"the sim chain does not implement {module}.{function}; "
                "use a real subtensor node (scripts/localnet.sh) for this call"
            )
        with self.store.write() as conn:
            block = self.current_block(conn)
            self._run_pending(conn, block)
            index = self._next_index(conn, block)
            conn.execute(
                "INSERT INTO accounts (ss58, nonce) VALUES (?, 1) "
                "ON CONFLICT(ss58) DO UPDATE SET nonce = nonce + 1",
                (signer,),
            )
            conn.execute("SAVEPOINT call")
            try:
                events = handler(self, conn, block, index, signer, function, dict(params))
            except DispatchError as error:
                conn.execute("ROLLBACK TO call")
                conn.execute("RELEASE call")
                failed = _event(
                    "System",
                    "ExtrinsicFailed",
                    {"dispatch_error": {"Module": {"name": error.name}}},
                    index,
                )
                self._record(conn, block, [failed])
                return Applied(block, index, [failed], error)
            conn.execute("RELEASE call")
            events = [*events, _event("System", "ExtrinsicSuccess", {}, index)]
            self._record(conn, block, events)
            return Applied(block, index, events)

    def _next_index(self, conn: sqlite3.Connection, block: int) -> int:
        # one record per extrinsic outcome (ExtrinsicSuccess/Failed) lands per call
        used = conn.execute(
            "SELECT COUNT(*) FROM events WHERE block=? AND "
            "json_extract(record, '$.event_id') IN ('ExtrinsicSuccess', 'ExtrinsicFailed')",
            (block,),
        ).fetchone()[0]
        return int(used) + 1  # index 0 is the timestamp inherent on a real chain

    def _record(self, conn: sqlite3.Connection, block: int, events: list[dict]) -> None:
        conn.executemany(
            "INSERT INTO events (block, record) VALUES (?, ?)",
            [(block, json.dumps(e)) for e in events],
        )
        conn.execute("DELETE FROM events WHERE block < ?", (block - EVENTS_KEPT_BLOCKS,))

    def events_at(self, block: int) -> list[dict]:
        with self.store.read() as conn:
            rows = conn.execute("SELECT record FROM events WHERE block=? ORDER BY rowid", (block,))
            return [json.loads(r[0]) for r in rows]

    # -- shared helpers -------------------------------------------------------------------

    def subnet(self, conn: sqlite3.Connection, netuid: int) -> sqlite3.Row | None:
        return conn.execute("SELECT * FROM subnets WHERE netuid=?", (int(netuid),)).fetchone()

    def require_subnet(self, conn: sqlite3.Connection, netuid: int) -> sqlite3.Row:
        row = self.subnet(conn, netuid)
        if row is None:
            raise DispatchError("SubnetNotExists", detail=f"netuid {netuid}")
        return row

    def hparams(self, conn: sqlite3.Connection, netuid: int) -> dict[str, Any]:
        row = self.subnet(conn, netuid)
        return {} if row is None else json.loads(row["hparams"])

    def free(self, conn: sqlite3.Connection, ss58: str) -> int:
        row = conn.execute("SELECT free FROM accounts WHERE ss58=?", (ss58,)).fetchone()
        return int(row[0]) if row else 0

    def credit(self, conn: sqlite3.Connection, ss58: str, rao: int) -> None:
        conn.execute(
            "INSERT INTO accounts (ss58, free) VALUES (?, ?) "
            "ON CONFLICT(ss58) DO UPDATE SET free = free + excluded.free",
            (ss58, int(rao)),
        )

    def debit(self, conn: sqlite3.Connection, ss58: str, rao: int, error: str, pallet: str) -> None:
        have = self.free(conn, ss58)
        if have < rao:
            raise DispatchError(
                error, pallet, f"needs {rao / RAO_PER_TAO} TAO, has {have / RAO_PER_TAO} TAO"
            )
        conn.execute("UPDATE accounts SET free = free - ? WHERE ss58=?", (int(rao), ss58))

    def uid_of(self, conn: sqlite3.Connection, netuid: int, hotkey: str) -> int | None:
        row = conn.execute(
            "SELECT uid FROM neurons WHERE netuid=? AND hotkey=?", (int(netuid), hotkey)
        ).fetchone()
        return None if row is None else int(row[0])

    def add_stake_rao(
        self, conn: sqlite3.Connection, hotkey: str, coldkey: str, netuid: int, rao: int
    ) -> None:
        conn.execute(
            "INSERT INTO stakes (hotkey, coldkey, netuid, alpha) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(hotkey, coldkey, netuid) DO UPDATE SET alpha = alpha + excluded.alpha",
            (hotkey, coldkey, int(netuid), int(rao)),
        )

    def hotkey_owner(self, conn: sqlite3.Connection, hotkey: str) -> str | None:
        row = conn.execute("SELECT coldkey FROM neurons WHERE hotkey=? LIMIT 1", (hotkey,))
        found = row.fetchone()
        if found:
            return str(found[0])
        row = conn.execute(
            "SELECT owner_coldkey FROM subnets WHERE owner_hotkey=? LIMIT 1", (hotkey,)
        )
        found = row.fetchone()
        return str(found[0]) if found else None

    def append_or_replace_neuron(
        self, conn: sqlite3.Connection, netuid: int, hotkey: str, coldkey: str, block: int
    ) -> int:
        """Give the hotkey a uid: the next free one, or the pruned neuron's when full."""
        hp = self.hparams(conn, netuid)
        n = conn.execute("SELECT COUNT(*) FROM neurons WHERE netuid=?", (netuid,)).fetchone()[0]
        if n < int(hp["max_allowed_uids"]):
            uid = int(n)
        else:
            uid = self._uid_to_prune(conn, netuid, block, int(hp["immunity_period"]))
            conn.execute("DELETE FROM neurons WHERE netuid=? AND uid=?", (netuid, uid))
            conn.execute("DELETE FROM weights WHERE netuid=? AND uid=?", (netuid, uid))
            epoch_mod.clear_bonds_for_uid(conn, netuid, uid)
        # subtensor's append/replace_neuron stamp LastUpdate with the registration block, so a
        # new neuron is active at once and waits weights_rate_limit blocks before setting weights
        conn.execute(
            "INSERT INTO neurons (netuid, uid, hotkey, coldkey, registered_at, last_update) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (netuid, uid, hotkey, coldkey, block, block),
        )
        return uid

    def _uid_to_prune(
        self, conn: sqlite3.Connection, netuid: int, block: int, immunity: int
    ) -> int:
        """Lowest pruning score out of immunity (earliest registration, then lowest uid, breaks
        ties); when every neuron is immune, the lowest-scoring immune one, as subtensor does.
        The subnet owner's hotkey is never pruned."""
        owner = self.subnet(conn, netuid)["owner_hotkey"]
        rows = conn.execute(
            "SELECT uid, hotkey, pruning_score, registered_at FROM neurons WHERE netuid=?",
            (netuid,),
        ).fetchall()
        candidates = [r for r in rows if r["hotkey"] != owner]
        if not candidates:
            raise DispatchError("NoNeuronIdAvailable", detail=f"netuid {netuid} is full")
        mature = [r for r in candidates if block - r["registered_at"] >= immunity]
        pool = mature or candidates
        best = min(pool, key=lambda r: (r["pruning_score"], r["registered_at"], r["uid"]))
        return int(best["uid"])


# -- call handlers ----------------------------------------------------------------------------


def _burned_register(chain, conn, block, index, signer, function, p) -> list[dict]:
    netuid, hotkey = int(p["netuid"]), str(p["hotkey"])
    subnet = chain.require_subnet(conn, netuid)
    hp = json.loads(subnet["hparams"])
    if not hp["registration_allowed"]:
        raise DispatchError("SubNetRegistrationDisabled")
    if chain.uid_of(conn, netuid, hotkey) is not None:
        raise DispatchError("HotKeyAlreadyRegisteredInSubNet")
    owner = chain.hotkey_owner(conn, hotkey)
    if owner is not None and owner != signer:
        raise DispatchError("NonAssociatedColdKey", detail="hotkey belongs to another coldkey")
    burn = int(hp["burn"])
    chain.debit(conn, signer, burn, "NotEnoughBalanceToStake", "SubtensorModule")
    uid = chain.append_or_replace_neuron(conn, netuid, hotkey, signer, block)
    return [
        _event(
            "SubtensorModule",
            "NeuronRegistered",
            {"netuid": netuid, "uid": uid, "hotkey": hotkey},
            index,
        )
    ]


def _register_network(chain, conn, block, index, signer, function, p) -> list[dict]:
    hotkey = str(p["hotkey"])
    owner = chain.hotkey_owner(conn, hotkey)
    if owner is not None and owner != signer:
        raise DispatchError("NonAssociatedColdKey", detail="hotkey belongs to another coldkey")
    cost = chain.meta_int(conn, "network_lock_cost")
    chain.debit(conn, signer, cost, "NotEnoughBalanceToStake", "SubtensorModule")
    taken = {int(r[0]) for r in conn.execute("SELECT netuid FROM subnets")}
    netuid = next(i for i in range(1, 65536) if i not in taken)
    hparams = json.loads(chain._meta(conn, "default_hparams"))
    conn.execute(
        "INSERT INTO subnets (netuid, owner_coldkey, owner_hotkey, registered_at, start_block, "
        "last_epoch, locked, name, symbol, hparams) VALUES (?, ?, ?, ?, NULL, 0, ?, ?, ?, ?)",
        (
            netuid,
            signer,
            hotkey,
            block,
            cost,
            f"mycel-sim-{netuid}",
            f"S{netuid}",
            json.dumps(hparams),
        ),
    )
    # subtensor gives the owner hotkey uid 0 on its new subnet
    chain.append_or_replace_neuron(conn, netuid, hotkey, signer, block)
    return [_event("SubtensorModule", "NetworkAdded", {"netuid": netuid, "mechanism": 1}, index)]


def _start_call(chain, conn, block, index, signer, function, p) -> list[dict]:
    netuid = int(p["netuid"])
    subnet = chain.require_subnet(conn, netuid)
    if subnet["owner_coldkey"] != signer:
        raise DispatchError("NotSubnetOwner")
    if subnet["start_block"] is not None:
        raise DispatchError("FirstEmissionBlockNumberAlreadySet")
    if block < subnet["registered_at"] + chain.meta_int(conn, "start_call_delay"):
        raise DispatchError("NeedWaitingMoreBlocksToStarCall")
    conn.execute(
        "UPDATE subnets SET start_block=?, last_epoch=? WHERE netuid=?", (block, block, netuid)
    )
    return [_event("SubtensorModule", "FirstEmissionBlockNumberSet", [netuid, block], index)]


def _serve_axon(chain, conn, block, index, signer, function, p) -> list[dict]:
    netuid = int(p["netuid"])
    subnet = chain.require_subnet(conn, netuid)
    if chain.uid_of(conn, netuid, signer) is None:
        raise DispatchError("HotKeyNotRegisteredInNetwork", detail=f"netuid {netuid}")
    ip, ip_type = int(p["ip"]), int(p.get("ip_type", 4))
    if ip_type not in (4, 6):
        raise DispatchError("InvalidIpType")
    if ip == 0 and int(p["port"]) != 1:  # ip 0 port 1: the SDK's ResetAxon (stop serving)
        raise DispatchError("InvalidIpAddress")
    hp = json.loads(subnet["hparams"])
    prev = conn.execute(
        "SELECT block FROM axons WHERE netuid=? AND hotkey=?", (netuid, signer)
    ).fetchone()
    limit = int(hp["serving_rate_limit"])
    if prev is not None and prev[0] > 0 and block - prev[0] < limit:
        raise DispatchError(
            "ServingRateLimitExceeded", detail=f"served {block - prev[0]} blocks ago; limit {limit}"
        )
    conn.execute(
        "INSERT OR REPLACE INTO axons (netuid, hotkey, block, version, ip, port, ip_type, "
        "protocol) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            netuid,
            signer,
            block,
            int(p.get("version", 0)),
            ip,
            int(p["port"]),
            ip_type,
            int(p.get("protocol", 4)),
        ),
    )
    return [_event("SubtensorModule", "AxonServed", [netuid, signer], index)]


def _set_weights(chain, conn, block, index, signer, function, p) -> list[dict]:
    netuid = int(p["netuid"])
    if int(p.get("mecid", 0) or 0) != 0:
        raise NotImplementedError("the sim chain supports mechanism 0 only (mecid != 0 given)")
    dests, values = [int(u) for u in p["dests"]], [int(w) for w in p["weights"]]
    subnet = chain.require_subnet(conn, netuid)
    hp = json.loads(subnet["hparams"])
    if hp["commit_reveal_weights_enabled"]:
        # plaintext weights are refused; commit_timelocked_mechanism_weights is the way in
        raise DispatchError("CommitRevealEnabled")
    uid = store_weights(chain, conn, block, netuid, signer, dests, values, int(p["version_key"]))
    return [_event("SubtensorModule", "WeightsSet", [netuid, uid], index)]


def store_weights(
    chain: SimChain,
    conn: sqlite3.Connection,
    block: int,
    netuid: int,
    signer: str,
    dests: list[int],
    values: list[int],
    version_key: int,
    *,
    check_rate_limit: bool = True,
) -> int:
    """subtensor's ``do_set_mechanism_weights``: validate, store the row, stamp LastUpdate.

    Shared by ``set_weights`` and the reveal of a timelocked commit (whose rate limit was
    enforced when it was committed). Returns the signer's uid.
    """
    hp = json.loads(chain.require_subnet(conn, netuid)["hparams"])
    if len(dests) != len(values):
        raise DispatchError("WeightVecNotEqualSize")
    uid = chain.uid_of(conn, netuid, signer)
    if uid is None:
        raise DispatchError("HotKeyNotRegisteredInSubNet", detail=f"netuid {netuid}")
    version = int(hp["weights_version"])
    if version != 0 and int(version_key) < version:
        raise DispatchError(
            "IncorrectWeightVersionKey", detail=f"got {version_key}, subnet needs >= {version}"
        )
    me = conn.execute(
        "SELECT last_update, validator_permit FROM neurons WHERE netuid=? AND uid=?", (netuid, uid)
    ).fetchone()
    limit = int(hp["weights_rate_limit"])
    if check_rate_limit and me["last_update"] > 0 and block - me["last_update"] < limit:
        raise DispatchError(
            "SettingWeightsTooFast",
            detail=f"last set {block - me['last_update']} blocks ago; limit {limit}",
        )
    self_weight = dests == [uid]
    if not self_weight and not me["validator_permit"]:
        raise DispatchError("NeuronNoValidatorPermit")
    if len(set(dests)) != len(dests):
        raise DispatchError("DuplicateUids")
    n = conn.execute("SELECT COUNT(*) FROM neurons WHERE netuid=?", (netuid,)).fetchone()[0]
    if any(d < 0 or d >= n for d in dests):
        raise DispatchError("UidVecContainInvalidOne")
    if not self_weight and len(dests) < min(int(hp["min_allowed_weights"]), n):
        raise DispatchError("WeightVecLengthIsLow")
    total = sum(values)
    max_limit = int(hp["max_weights_limit"])
    # like subtensor: the largest weight, normalised to a u16 share of the sum, within the limit
    if (
        not self_weight
        and max_limit < U16_MAX
        and total > 0
        and (max(values) * U16_MAX // total > max_limit)
    ):
        raise DispatchError("MaxWeightExceeded")
    top = max(values) if values else 0
    # the chain stores max-upscaled u16 weights
    row = [[d, (w * U16_MAX) // top] for d, w in zip(dests, values, strict=True)] if top else []
    conn.execute(
        "INSERT OR REPLACE INTO weights (netuid, uid, row) VALUES (?, ?, ?)",
        (netuid, uid, json.dumps(row)),
    )
    conn.execute("UPDATE neurons SET last_update=? WHERE netuid=? AND uid=?", (block, netuid, uid))
    return uid


def _add_stake(chain, conn, block, index, signer, function, p) -> list[dict]:
    netuid, hotkey, rao = int(p["netuid"]), str(p["hotkey"]), int(p["amount_staked"])
    subnet = chain.require_subnet(conn, netuid)
    if subnet["start_block"] is None:
        raise DispatchError("SubtokenDisabled")
    if chain.hotkey_owner(conn, hotkey) is None:
        raise DispatchError("HotKeyAccountNotExists")
    if rao < MIN_STAKE_RAO:
        raise DispatchError("AmountTooLow")
    if function == "add_stake_limit" and int(p["limit_price"]) < RAO_PER_TAO:
        raise DispatchError("SlippageTooHigh")
    chain.debit(conn, signer, rao, "NotEnoughBalanceToStake", "SubtensorModule")
    chain.add_stake_rao(conn, hotkey, signer, netuid, rao)  # the sim's pool price is fixed at 1
    return [_event("SubtensorModule", "StakeAdded", [signer, hotkey, rao, rao, netuid], index)]


def _transfer(chain, conn, block, index, signer, function, p) -> list[dict]:
    dest = str(p["dest"])
    ed = chain.meta_int(conn, "existential_deposit")
    have = chain.free(conn, signer)
    if function == "transfer_all":
        keep = bool(p.get("keep_alive", True))
        value = have - ed if keep else have
    else:
        value = int(p["value"])
        if value > have:
            raise DispatchError("InsufficientBalance", "Balances")
        if function == "transfer_keep_alive" and have - value < ed:
            raise DispatchError("Expendability", "Balances")
    if value <= 0:
        raise DispatchError("InsufficientBalance", "Balances")
    if chain.free(conn, dest) + value < ed:
        raise DispatchError("ExistentialDeposit", "Balances")
    chain.debit(conn, signer, value, "InsufficientBalance", "Balances")
    chain.credit(conn, dest, value)
    return [_event("Balances", "Transfer", {"from": signer, "to": dest, "amount": value}, index)]


def _admin_setter(chain, conn, block, index, signer, function, p) -> list[dict]:
    netuid = int(p.pop("netuid"))
    subnet = chain.require_subnet(conn, netuid)
    if subnet["owner_coldkey"] != signer:
        raise DispatchError("BadOrigin", "System", "only the subnet owner coldkey may set this")
    hp = json.loads(subnet["hparams"])
    if function == "sudo_set_alpha_values":
        hp["alpha_low"], hp["alpha_high"] = int(p["alpha_low"]), int(p["alpha_high"])
    elif function in ADMIN_SETTERS:
        (value,) = p.values()
        name = ADMIN_SETTERS[function]
        if name == "alpha_sigmoid_steepness" and int(value) < 0:
            raise DispatchError("NegativeSigmoidSteepness", "AdminUtils")
        hp[name] = bool(value) if isinstance(DEFAULT_HPARAMS[name], bool) else int(value)
        if name == "max_allowed_uids":
            n = conn.execute("SELECT COUNT(*) FROM neurons WHERE netuid=?", (netuid,)).fetchone()
            if hp[name] < n[0]:
                raise DispatchError("MaxAllowedUIdsLessThanCurrentUIds", "AdminUtils")
    else:
        raise NotImplementedError(f"the sim chain does not implement AdminUtils.{function}")
    conn.execute("UPDATE subnets SET hparams=? WHERE netuid=?", (json.dumps(hp), netuid))
    return [_event("AdminUtils", "HyperparameterSet", {"netuid": netuid, "call": function}, index)]


def _commit_timelocked(chain, conn, block, index, signer, function, p) -> list[dict]:
    from mycel_subnet.chain.sim import commit_reveal

    return commit_reveal.commit(chain, conn, block, index, signer, function, p)


_HANDLERS = {
    ("SubtensorModule", "burned_register"): _burned_register,
    ("SubtensorModule", "register_network"): _register_network,
    ("SubtensorModule", "start_call"): _start_call,
    ("SubtensorModule", "serve_axon"): _serve_axon,
    ("SubtensorModule", "set_weights"): _set_weights,
    ("SubtensorModule", "set_mechanism_weights"): _set_weights,
    ("SubtensorModule", "commit_timelocked_mechanism_weights"): _commit_timelocked,
    ("SubtensorModule", "commit_timelocked_weights"): _commit_timelocked,
    ("SubtensorModule", "add_stake"): _add_stake,
    ("SubtensorModule", "add_stake_limit"): _add_stake,
    ("Balances", "transfer_keep_alive"): _transfer,
    ("Balances", "transfer_allow_death"): _transfer,
    ("Balances", "transfer_all"): _transfer,
}
