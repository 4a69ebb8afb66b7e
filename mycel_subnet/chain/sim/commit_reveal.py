"""Commit-reveal weights on the sim chain, as subtensor's timelocked (CRv4) path does it.

With ``commit_reveal_weights_enabled`` the SDK's ``SetWeights`` does not send plaintext weights:
it SCALE-encodes ``WeightsTlockPayload {hotkey, uids, values, version_key}``, timelock-encrypts it
to a future drand *quicknet* round (``bittensor_core.get_encrypted_commit_v2``) and submits
``commit_timelocked_mechanism_weights(netuid, mecid, commit, reveal_round, commit_reveal_version)``.
The chain stores the ciphertext under the epoch it was committed in; once the subnet's epoch
counter reaches ``commit epoch + RevealPeriodEpochs`` it decrypts the commit with the drand pulse
(the BLS signature) of ``reveal_round`` and applies the weights as ``set_weights`` would.

The decryption here is the real one (``bittensor_core.decrypt_with_signature``). What the sim
cannot do is produce pulses: a round's signature exists only once drand's threshold network has
signed it, so an offline sim has none for the future rounds the SDK encrypts to. Pulses are put
into the chain with :func:`store_pulse` (``admin.store_drand_pulse``, or
``admin.fetch_drand_pulses`` where drand is reachable), the way pallet_drand's offchain worker
puts them into a node. A commit whose pulse is missing
waits through its reveal epoch, as on subtensor, and is then dropped unrevealed.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import struct

from mycel_subnet.chain.sim.chain import DispatchError, SimChain, _event, store_weights

COMMIT_REVEAL_VERSION = 4  # subtensor's CommitRevealWeightsVersion (the SDK commits with 4)
MAX_UNREVEALED_PER_EPOCH = 10  # subtensor: TooManyUnrevealedCommits past 10 per hotkey and epoch
MAX_COMMIT_BYTES = 5000  # subtensor's MAX_CRV3_COMMIT_SIZE_BYTES
SIGNATURE_BYTES = 48  # a quicknet (bls-unchained-g1) signature: one compressed G1 point


# -- SCALE helpers ----------------------------------------------------------------------------


def _compact(n: int) -> bytes:
    if n < 1 << 6:
        return bytes([n << 2])
    if n < 1 << 14:
        return struct.pack("<H", (n << 2) | 1)
    if n < 1 << 30:
        return struct.pack("<I", (n << 2) | 2)
    raise ValueError(f"length {n} too large")


def _read_compact(data: bytes, at: int) -> tuple[int, int]:
    mode = data[at] & 3
    if mode == 0:
        return data[at] >> 2, at + 1
    if mode == 1:
        return struct.unpack_from("<H", data, at)[0] >> 2, at + 2
    if mode == 2:
        return struct.unpack_from("<I", data, at)[0] >> 2, at + 4
    raise ValueError("big-integer compact lengths are not used by weight payloads")


def _read_u16_vec(data: bytes, at: int) -> tuple[list[int], int]:
    n, at = _read_compact(data, at)
    values = list(struct.unpack_from(f"<{n}H", data, at))
    return values, at + 2 * n


def decode_payload(data: bytes) -> tuple[bytes | None, list[int], list[int], int]:
    """``WeightsTlockPayload`` -> (hotkey public key, uids, values, version_key).

    Falls back to the legacy payload without a hotkey, as subtensor does (hotkey then None).
    Raises ValueError when neither layout decodes exactly.
    """
    try:
        n, at = _read_compact(data, 0)
        hotkey = bytes(data[at : at + n])
        uids, at = _read_u16_vec(data, at + n)
        values, at = _read_u16_vec(data, at)
        (version_key,) = struct.unpack_from("<Q", data, at)
        if at + 8 == len(data) and n == 32:
            return hotkey, uids, values, int(version_key)
    except (struct.error, IndexError, ValueError):
        pass
    try:
        uids, at = _read_u16_vec(data, 0)
        values, at = _read_u16_vec(data, at)
        (version_key,) = struct.unpack_from("<Q", data, at)
    except (struct.error, IndexError, ValueError) as error:
        raise ValueError(f"not a WeightsTlockPayload: {error}") from None
    if at + 8 != len(data):
        raise ValueError("not a WeightsTlockPayload: trailing bytes")
    return None, uids, values, int(version_key)


def decrypt_commit(ciphertext: bytes, reveal_round: int, signature_hex: str) -> bytes:
    """Open a commit with the drand signature of its round (raises ValueError if it won't).

    The chain stores the inner TLE ciphertext and the round separately; the library opens its
    ``UserData`` envelope, which is SCALE ``(Vec<u8> ciphertext, u64 round)``.
    """
    import bittensor_core

    envelope = _compact(len(ciphertext)) + bytes(ciphertext) + struct.pack("<Q", reveal_round)
    return bytes(bittensor_core.decrypt_with_signature(envelope, signature_hex))


# -- drand pulses -------------------------------------------------------------------------------


def _clean_signature(signature: str | bytes) -> str:
    text = signature.hex() if isinstance(signature, bytes | bytearray) else str(signature)
    text = text.strip().lower().removeprefix("0x")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ValueError("a drand signature is hex") from None
    if len(raw) != SIGNATURE_BYTES:
        raise ValueError(f"a quicknet signature is {SIGNATURE_BYTES} bytes, got {len(raw)}")
    return text


def store_pulse(
    chain: SimChain, conn: sqlite3.Connection, round_: int, signature: str | bytes, block: int
) -> list[str]:
    """Record drand round ``round_``'s signature (pallet_drand ``Pulses``) and reveal the commits
    it opens now. Returns the hotkeys whose weights were revealed.

    The signature is not BLS-verified here (no pairing library is installed); a wrong one simply
    fails to decrypt, and the commits it was meant for are dropped, as a node would drop them.
    """
    if int(round_) <= 0:
        raise ValueError(f"drand rounds start at 1, got {round_}")
    conn.execute(
        "INSERT OR REPLACE INTO drand_pulses (round, signature) VALUES (?, ?)",
        (int(round_), _clean_signature(signature)),
    )
    revealed: list[str] = []
    for row in conn.execute("SELECT netuid FROM subnets WHERE start_block IS NOT NULL").fetchall():
        revealed += reveal(chain, conn, int(row[0]), block)
    return revealed


def pulse(conn: sqlite3.Connection, round_: int) -> str | None:
    row = conn.execute("SELECT signature FROM drand_pulses WHERE round=?", (int(round_),))
    found = row.fetchone()
    return None if found is None else str(found[0])


def last_stored_round(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COALESCE(MAX(round), 0) FROM drand_pulses").fetchone()[0])


def pulse_record(conn: sqlite3.Connection, round_: int) -> dict | None:
    """pallet_drand's ``Pulse`` (randomness is sha256 of the signature, as drand defines it)."""
    signature = pulse(conn, round_)
    if signature is None:
        return None
    raw = bytes.fromhex(signature)
    return {
        "round": int(round_),
        "randomness": "0x" + hashlib.sha256(raw).hexdigest(),
        "signature": "0x" + signature,
    }


# -- epoch counter ---------------------------------------------------------------------------------


def epoch_index(conn: sqlite3.Connection, netuid: int) -> int:
    """``SubnetEpochIndex``: how many epochs the subnet has run (the commit-reveal clock)."""
    row = conn.execute("SELECT epoch_index FROM subnet_epochs WHERE netuid=?", (int(netuid),))
    found = row.fetchone()
    return 0 if found is None else int(found[0])


def count_epoch(conn: sqlite3.Connection, netuid: int) -> int:
    conn.execute(
        "INSERT INTO subnet_epochs (netuid, epoch_index) VALUES (?, 1) "
        "ON CONFLICT(netuid) DO UPDATE SET epoch_index = epoch_index + 1",
        (int(netuid),),
    )
    return epoch_index(conn, netuid)


# -- the extrinsic ------------------------------------------------------------------------------


def commit(chain: SimChain, conn, block, index, signer, function, p) -> list[dict]:
    """``commit_timelocked_mechanism_weights`` / ``commit_timelocked_weights``."""
    netuid = int(p["netuid"])
    if int(p.get("mecid", 0) or 0) != 0:
        raise NotImplementedError("the sim chain supports mechanism 0 only (mecid != 0 given)")
    hp = json.loads(chain.require_subnet(conn, netuid)["hparams"])
    if not hp["commit_reveal_weights_enabled"]:
        raise DispatchError("CommitRevealDisabled")
    version = int(p.get("commit_reveal_version", COMMIT_REVEAL_VERSION))
    if version != COMMIT_REVEAL_VERSION:
        raise DispatchError(
            "IncorrectCommitRevealVersion",
            detail=f"got {version}, the chain runs {COMMIT_REVEAL_VERSION}",
        )
    uid = chain.uid_of(conn, netuid, signer)
    if uid is None:
        raise DispatchError("HotKeyNotRegisteredInSubNet", detail=f"netuid {netuid}")
    ciphertext = p["commit"]
    if isinstance(ciphertext, str):
        ciphertext = bytes.fromhex(ciphertext.removeprefix("0x"))
    ciphertext = bytes(ciphertext)
    if len(ciphertext) > MAX_COMMIT_BYTES:  # a node refuses to decode the oversized BoundedVec
        raise ValueError(f"commit is {len(ciphertext)} bytes; the chain takes {MAX_COMMIT_BYTES}")
    reveal_round = int(p["reveal_round"])
    latest = last_stored_round(conn)
    if reveal_round <= latest:
        raise DispatchError(
            "InvalidRevealRound", detail=f"round {reveal_round}, latest stored pulse {latest}"
        )
    last_update = conn.execute(
        "SELECT last_update FROM neurons WHERE netuid=? AND uid=?", (netuid, uid)
    ).fetchone()[0]
    limit = int(hp["weights_rate_limit"])
    if last_update > 0 and block - last_update < limit:
        raise DispatchError(
            "CommittingWeightsTooFast",
            detail=f"last set {block - last_update} blocks ago; limit {limit}",
        )
    epoch = epoch_index(conn, netuid)
    pending = conn.execute(
        "SELECT COUNT(*) FROM timelocked_commits WHERE netuid=? AND epoch=? AND hotkey=?",
        (netuid, epoch, signer),
    ).fetchone()[0]
    if pending >= MAX_UNREVEALED_PER_EPOCH:
        raise DispatchError("TooManyUnrevealedCommits")
    conn.execute(
        "INSERT INTO timelocked_commits (netuid, epoch, hotkey, commit_block, ciphertext, "
        "reveal_round) VALUES (?, ?, ?, ?, ?, ?)",
        (netuid, epoch, signer, block, ciphertext, reveal_round),
    )
    conn.execute("UPDATE neurons SET last_update=? WHERE netuid=? AND uid=?", (block, netuid, uid))
    commit_hash = "0x" + hashlib.blake2b(ciphertext, digest_size=32).hexdigest()
    return [
        _event(
            "SubtensorModule",
            "TimelockedWeightsCommitted",
            [signer, netuid, commit_hash, reveal_round],
            index,
        )
    ]


# -- reveal ---------------------------------------------------------------------------------------


def reveal(chain: SimChain, conn: sqlite3.Connection, netuid: int, block: int) -> list[str]:
    """subtensor's ``reveal_crv3_commits_for_subnet`` at ``block``. Returns the revealed hotkeys.

    Commits from before the reveal epoch (``epoch index - RevealPeriodEpochs``) are expired;
    those of the reveal epoch are opened when their round's pulse is stored, applied through
    the same checks as ``set_weights`` (except the rate limit, already enforced at commit), and
    removed. One without its pulse yet stays for a later try within the epoch; one that fails to
    decrypt, decode, match its committer or pass the weight checks is dropped.
    """
    hp = chain.hparams(conn, netuid)
    if not hp:
        return []
    period = int(hp["commit_reveal_period"])
    current = epoch_index(conn, netuid)
    reveal_epoch = current - period
    conn.execute(
        "DELETE FROM timelocked_commits WHERE netuid=? AND epoch<?", (netuid, reveal_epoch)
    )
    if reveal_epoch < 0:
        return []
    rows = conn.execute(
        "SELECT id, hotkey, ciphertext, reveal_round FROM timelocked_commits "
        "WHERE netuid=? AND epoch=? ORDER BY id",
        (netuid, reveal_epoch),
    ).fetchall()
    revealed: list[str] = []
    events: list[dict] = []
    for row in rows:
        signature = pulse(conn, row["reveal_round"])
        if signature is None:
            continue  # the round's pulse has not reached the chain: retried while in this epoch
        conn.execute("DELETE FROM timelocked_commits WHERE id=?", (row["id"],))
        try:
            plain = decrypt_commit(row["ciphertext"], int(row["reveal_round"]), signature)
            hotkey, uids, values, version_key = decode_payload(plain)
        except ValueError:
            continue
        if hotkey is not None and hotkey != _public_key(row["hotkey"]):
            continue  # a payload sealed for another hotkey (a replayed commit)
        conn.execute("SAVEPOINT reveal")
        try:
            store_weights(
                chain,
                conn,
                block,
                netuid,
                row["hotkey"],
                uids,
                values,
                version_key,
                check_rate_limit=False,
            )
        except DispatchError:
            conn.execute("ROLLBACK TO reveal")
            conn.execute("RELEASE reveal")
            continue
        conn.execute("RELEASE reveal")
        revealed.append(row["hotkey"])
        event = _event("SubtensorModule", "TimelockedWeightsRevealed", [netuid, row["hotkey"]], 0)
        event["phase"] = "Initialization"
        events.append(event)
    if events:
        chain._record(conn, block, events)
    return revealed


def _public_key(ss58: str) -> bytes:
    import bittensor_core

    return bytes(bittensor_core.decode_ss58(ss58))


def pending_commits(conn: sqlite3.Connection, netuid: int) -> list[tuple[int, list[tuple]]]:
    """``TimelockedWeightCommits`` for one subnet: ``[(epoch, [(hotkey, block, 0x.., round)])]``."""
    grouped: dict[int, list[tuple]] = {}
    rows = conn.execute(
        "SELECT epoch, hotkey, commit_block, ciphertext, reveal_round FROM timelocked_commits "
        "WHERE netuid=? ORDER BY epoch, id",
        (int(netuid),),
    )
    for r in rows:
        grouped.setdefault(int(r["epoch"]), []).append(
            (
                r["hotkey"],
                int(r["commit_block"]),
                "0x" + bytes(r["ciphertext"]).hex(),
                int(r["reveal_round"]),
            )
        )
    return sorted(grouped.items())
