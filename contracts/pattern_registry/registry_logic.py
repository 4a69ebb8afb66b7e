"""PatternRegistry contract logic, as plain functions over a small `env` interface.

The same file runs in three places: compiled to WASM by nearc (MicroPython, see main.py), under
the CPython host (mycel_subnet/near/host.py) and inside the local ledger. It therefore uses only
what MicroPython has: no dataclasses, no typing, no re, and integer fixed point instead of floats
so every runtime computes the same scores.

The env interface (implemented by main.NearEnv and mycel_subnet.near.host.Host):
  predecessor() -> str         current_account() -> str      attached_deposit() -> int
  block_timestamp() -> int ns  read(key) -> str or None      write(key, value_str)
  read_bytes(key) -> bytes or None  (the stored value undecoded: cheap to scan, see below)
  remove(key)                  log(message)                  panic(message) (never returns)
  call(receiver, method, args_json, deposit, gas)             (a cross-contract promise)
  transfer_then(receiver, amount, method, args_json, gas)     (a transfer, then a callback on
                                                               this contract with its result)
  promise_count() -> int       promise_ok(index) -> bool      (inside such a callback)

Reputation numbers are parts per million (ppm): 1_000_000 means 1.0. Storage keys:
  cfg             the configuration            p:<id>      a pattern (JSON)
  h:<hash>        id of a content hash         d:<domain>  the domain's ids, "[1,5,9]"
  a:<id>          attester -> [quality_ppm, safe 0/1, attested_at]
  c:<account>     a creator's standing aggregate
  u:<id>:<user>   the user's unrated paid uses: their rating weights in ppm
  b:<account>     yoctoNEAR owed to an account whose transfer failed (withdraw_payout)
"""

import json

PPM = 1000000
FEE_DENOMINATOR = 10000
DEFAULT_FEE_BPS = 500  # 5% protocol fee, 95% to the creator
MAX_FEE_BPS = 2000
MAX_U128 = (1 << 128) - 1
MAX_DOMAIN_LEN = 64
MAX_CID_LEN = 128
MAX_ACCOUNT_LEN = 64
MAX_FIND_LIMIT = 100
MAX_PATTERNS_PER_DOMAIN = 1000
# find_patterns reads at most this many of the domain's patterns per call (a page), so its gas
# is bounded whatever the domain holds; benchmarks/bench_contract_gas.py measures it.
MAX_SCAN_PER_CALL = 250
HALF_LIFE_NS = 30 * 24 * 3600 * 1000000000  # ratings lose half their weight every 30 days
PRIOR_PPM = 250000  # the standing of a creator with no evidence yet (two 3-star ratings' worth)
PRIOR_WEIGHT_PPM = 2 * PPM  # a pattern's prior counts as two full-weight ratings
ATTEST_WEIGHT_PPM = 4 * PPM  # the attesters' combined quality counts as four
MAX_PENDING_RATINGS = 16  # unrated paid uses kept per (pattern, user)
MAX_ATTESTERS = 16
MAX_REASON_LEN = 200
NEAR_BYTE_COST = 10000000000000000000  # yoctoNEAR of storage stake per byte on NEAR (1e19)
# The deposit covers the largest storage one pattern can hold (record, hash key, domain entry,
# a full attestation map: tests/near/test_contract_logic.py measures it), refunded on removal.
STORAGE_DEPOSIT = 4000 * NEAR_BYTE_COST  # 0.04 NEAR
RATING_WEIGHT_CAP = 100000000000000000000000  # 0.1 NEAR paid gives a rating full weight
ATTEST_INTERVAL_NS = 3600 * 1000000000  # one attestation per (attester, pattern) per hour
REPUTATION_GAS = 20 * 10**12
CALLBACK_GAS = 10 * 10**12

HEX = "0123456789abcdef"
DIGITS = "0123456789"
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BASE32_LOWER = "abcdefghijklmnopqrstuvwxyz234567"
DOMAIN_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_-"
ACCOUNT_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
SEPARATORS = "-_."

VIEW_METHODS = (
    "get_config",
    "get_pattern",
    "find_patterns",
    "get_pattern_by_hash",
    "get_attestations",
    "get_creator",
    "get_payout",
)
PAYABLE_METHODS = ("use_pattern", "register_pattern")
CALLBACK_METHODS = ("on_transfer_done",)

CFG_DEFAULTS = (
    ("storage_deposit", str(STORAGE_DEPOSIT)),
    ("rating_weight_cap", str(RATING_WEIGHT_CAP)),
    ("attest_interval_ns", ATTEST_INTERVAL_NS),
    ("attesters", None),
)
PATTERN_DEFAULTS = (
    ("base_reputation_ppm", PRIOR_PPM),
    ("status", "unverified"),
    ("attested_quality_ppm", 0),
    ("attestations", 0),
    ("quarantine_reason", ""),
    ("evidence_ppm", 0),
    ("deposit", "0"),
)


class Raw:
    """A result that is JSON already, as bytes (find_patterns and get_pattern return stored
    records as they are instead of parsing and re-encoding them: MicroPython's json is slow)."""

    def __init__(self, data):
        self.raw_json = data


# ----- helpers -------------------------------------------------------------------------------


def _config(env):
    raw = env.read("cfg")
    if raw is None:
        env.panic("Contract is not initialized")
    cfg = json.loads(raw)
    for key, value in CFG_DEFAULTS:  # a configuration written by an earlier version
        if key not in cfg:
            cfg[key] = [] if value is None else value
    return cfg


def _save_config(env, cfg):
    env.write("cfg", json.dumps(cfg))


def _only_chars(value, allowed):
    return value.strip(allowed) == ""  # in C: a character loop in MicroPython is costly


def is_account_id(value):
    """NEAR account id rules: 2-64 chars, a-z 0-9 parts joined by single '-', '_' or '.'.
    Checked with C-level string methods: a loop over the characters in MicroPython costs
    thousands of instructions each."""
    if not isinstance(value, str) or not 2 <= len(value) <= MAX_ACCOUNT_LEN:
        return False
    if value.strip(ACCOUNT_CHARS + SEPARATORS) != "":
        return False
    if value[0] in SEPARATORS or value[-1] in SEPARATORS:
        return False
    for first in SEPARATORS:
        for second in SEPARATORS:
            if first + second in value:
                return False
    return True


def _check_account(env, value, name):
    if not is_account_id(value):
        env.panic("Invalid " + name + ": expected a NEAR account id")


def parse_u128(env, value, name):
    """Accept NEAR's U128 wire form (a decimal string) or a JSON integer; refuse the rest."""
    if isinstance(value, bool):
        env.panic("Invalid " + name + ": expected a decimal string")
    if isinstance(value, int):
        amount = value
    elif isinstance(value, str) and 0 < len(value) <= 39 and _only_chars(value, DIGITS):
        amount = int(value)
    else:
        env.panic("Invalid " + name + ": expected a decimal string")
    if amount < 0 or amount > MAX_U128:
        env.panic("Invalid " + name + ": out of u128 range")
    return amount


def _int_arg(env, value, name, low, high):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        env.panic("Invalid " + name + ": expected an integer " + str(low) + "-" + str(high))
    return value


def parse_pattern_id(env, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        env.panic("Invalid pattern_id: expected a positive integer")
    return value


def _check_hash(env, value):
    if not isinstance(value, str) or len(value) != 64 or not _only_chars(value, HEX):
        env.panic("Invalid pattern_hash: expected 64 lowercase hex characters")


def _check_cid(env, value):
    ok = False
    if isinstance(value, str):
        if len(value) == 46 and value[:2] == "Qm" and _only_chars(value, BASE58):
            ok = True  # CIDv0
        elif 10 <= len(value) <= MAX_CID_LEN and value[0] == "b":
            ok = _only_chars(value[1:], BASE32_LOWER)  # CIDv1, base32
    if not ok:
        env.panic("Invalid metadata_cid: expected an IPFS CIDv0 (Qm...) or base32 CIDv1 (b...)")


def _check_domain(env, value):
    if (
        not isinstance(value, str)
        or not 0 < len(value) <= MAX_DOMAIN_LEN
        or not _only_chars(value, DOMAIN_CHARS)
    ):
        env.panic("Invalid domain: 1-64 characters of a-z, 0-9, '_' or '-'")


def _check_reason(env, value):
    if not isinstance(value, str) or len(value) > MAX_REASON_LEN:
        env.panic("Invalid reason: up to 200 printable ASCII characters")
    for ch in value:
        if not 32 <= ord(ch) <= 126:
            env.panic("Invalid reason: up to 200 printable ASCII characters")


def decay_ppm(elapsed_ns):
    """Weight left after `elapsed_ns`: 2^(-t/H), with straight lines between whole half-lives.

    Exact at every whole half-life; between them linear interpolation (never off by more than
    about 6%), which integer-only runtimes compute identically.
    """
    if elapsed_ns <= 0:
        return PPM
    halvings = elapsed_ns // HALF_LIFE_NS
    if halvings >= 40:
        return 0
    base = PPM >> halvings
    rest = elapsed_ns % HALF_LIFE_NS
    return base - (base * rest) // (2 * HALF_LIFE_NS)


def observed_ppm(pattern):
    """What the weighted ratings say on their own: (average stars - 1) / 4 x success share."""
    weight = pattern["w_weight"]
    if weight <= 0:
        return 0
    avg = pattern["w_rating"] * PPM // weight
    success = pattern["w_success"] * PPM // weight
    return (avg - PPM) // 4 * success // PPM


def pattern_reputation(pattern):
    """Composite pattern score in ppm: a weighted mean of three kinds of evidence.

    prior     base_reputation_ppm (the creator's standing at registration), weight 2
    attested  attested_quality_ppm (the attesters' mean), weight 4, once attested
    ratings   observed_ppm over the payment-weighted, time-decayed ratings, weight w_weight
    A quarantined pattern scores 0.
    """
    if pattern["status"] == "quarantined":
        return 0
    num = PRIOR_WEIGHT_PPM * pattern["base_reputation_ppm"]
    den = PRIOR_WEIGHT_PPM
    if pattern["attestations"] > 0:
        num += ATTEST_WEIGHT_PPM * pattern["attested_quality_ppm"]
        den += ATTEST_WEIGHT_PPM
    weight = pattern["w_weight"]
    if weight > 0:
        num += weight * observed_ppm(pattern)
        den += weight
    return num // den


def evidence_ppm(pattern):
    """How much a pattern says about its creator: its rating weight, plus the attestations'."""
    weight = pattern["w_weight"]
    if pattern["attestations"] > 0:
        weight += ATTEST_WEIGHT_PPM
    return weight


def _load_creator(env, account):
    raw = env.read("c:" + account)
    if raw is None:
        return {"account": account, "patterns": 0, "evidence_ppm": 0, "weighted": 0}
    return json.loads(raw)


def creator_standing(creator):
    """The evidence-weighted mean reputation of a creator's patterns, or the prior."""
    if creator["evidence_ppm"] <= 0:
        return PRIOR_PPM
    return creator["weighted"] // creator["evidence_ppm"]


def _public_creator(creator):
    out = dict(creator)
    out["weighted"] = str(creator["weighted"])
    out["standing_ppm"] = creator_standing(creator)
    return out


def _save_creator(env, creator):
    if creator["patterns"] <= 0 and creator["evidence_ppm"] <= 0:
        env.remove("c:" + creator["account"])
        return
    env.write("c:" + creator["account"], json.dumps(_public_creator(creator)))


def _load_creator_record(env, account):
    creator = _load_creator(env, account)
    creator["weighted"] = int(creator["weighted"])
    return creator


def _public(pattern):
    out = dict(pattern)
    out["price_per_use"] = str(pattern["price_per_use"])
    out["total_earned"] = str(pattern["total_earned"])
    out["deposit"] = str(pattern["deposit"])
    return out


def _load_pattern(env, pattern_id):
    raw = env.read("p:" + str(pattern_id))
    if raw is None:
        env.panic("Pattern not found")
    pattern = json.loads(raw)
    for key, value in PATTERN_DEFAULTS:  # a record written by an earlier version
        if key not in pattern:
            pattern[key] = value
    pattern["price_per_use"] = int(pattern["price_per_use"])
    pattern["total_earned"] = int(pattern["total_earned"])
    pattern["deposit"] = int(pattern["deposit"])
    return pattern


def _rescore(env, pattern):
    """Recompute the pattern's reputation and evidence, move its creator's standing by the
    change, and save both."""
    old_rep = pattern["reputation_ppm"]
    old_evidence = pattern["evidence_ppm"]
    pattern["reputation_ppm"] = pattern_reputation(pattern)
    pattern["evidence_ppm"] = evidence_ppm(pattern)
    creator = _load_creator_record(env, pattern["creator"])
    creator["evidence_ppm"] += pattern["evidence_ppm"] - old_evidence
    creator["weighted"] += (
        pattern["reputation_ppm"] * pattern["evidence_ppm"] - old_rep * old_evidence
    )
    _save_creator(env, creator)
    _save_pattern(env, pattern)


def encode_pattern(pattern):
    """A pattern's stored JSON with status and reputation_ppm first, so find_patterns finds them
    in the first bytes (MicroPython's dicts, hence its json.dumps, have no order of their own)."""
    public = _public(pattern)
    rest = dict(public)
    del rest["status"]
    del rest["reputation_ppm"]
    head = '{"status": ' + json.dumps(public["status"])
    head += ', "reputation_ppm": ' + str(public["reputation_ppm"]) + ", "
    return head + json.dumps(rest)[1:]


def _save_pattern(env, pattern):
    env.write("p:" + str(pattern["id"]), encode_pattern(pattern))


def _domain_ids(env, domain):
    """The domain's ids, stored as a JSON list without spaces and read with split (cheap)."""
    raw = env.read("d:" + domain)
    if raw is None:
        return []
    body = raw.strip()[1:-1].strip()
    if not body:
        return []
    return [int(part) for part in body.split(",")]


def _save_domain(env, domain, ids):
    if ids:
        env.write("d:" + domain, "[" + ",".join([str(i) for i in ids]) + "]")
    else:
        env.remove("d:" + domain)


# The scan of find_patterns reads fields out of the stored JSON bytes without parsing them. On
# bytes, MicroPython indexes and measures in constant time; on its (UTF-8) str every index, len
# and slice walks the string, which made a scan cost about 0.8M instructions per pattern.
REPUTATION_KEY = b'"reputation_ppm":'
STATUS_KEY = b'"status":'
QUARANTINED = b'"quarantined"'


HEAD_BYTES = 64  # where encode_pattern puts status and reputation_ppm


def _field_start(raw, key):
    at = raw.find(key, 0, HEAD_BYTES)
    if at < 0:
        at = raw.find(key)  # a record written before encode_pattern
    if at < 0:
        return -1
    at += len(key)
    while at < len(raw) and raw[at] == 32:  # spaces after the colon
        at += 1
    return at


def _int_field(raw, key):
    """An integer field of a stored JSON object (bytes), without parsing the object. A key in
    quotes followed by a colon can only be a key: inside a JSON string every quote is escaped."""
    at = _field_start(raw, key)
    if at < 0:
        return 0
    end = at
    while end < len(raw) and 48 <= raw[end] <= 57:
        end += 1
    return int(raw[at:end].decode()) if end > at else 0


def _is_quarantined(raw):
    at = _field_start(raw, STATUS_KEY)
    return at >= 0 and raw[at : at + len(QUARANTINED)] == QUARANTINED


def _assert_owner(env, cfg):
    if env.predecessor() != cfg["owner"]:
        env.panic("Only the owner can do this")


def _assert_private(env):
    if env.predecessor() != env.current_account():
        env.panic("Only the contract itself can call this")


def _send(env, receiver, amount, kind):
    """Transfer `amount` to `receiver` with the refund path: if the transfer fails (say the
    account was deleted), on_transfer_done credits it to the receiver's payout balance, or
    back to the fee pool for the owner's fee withdrawals."""
    if amount <= 0:
        return
    args = {"receiver": receiver, "amount": str(amount), "kind": kind}
    env.transfer_then(receiver, amount, "on_transfer_done", json.dumps(args), CALLBACK_GAS)


def _credit(env, account, amount):
    key = "b:" + account
    have = env.read(key)
    env.write(key, str((int(have) if have is not None else 0) + amount))


# ----- configuration -------------------------------------------------------------------------


def init(
    env,
    owner,
    reputation_contract,
    fee_bps=DEFAULT_FEE_BPS,
    storage_deposit=None,
    rating_weight_cap=None,
    attest_interval_ns=ATTEST_INTERVAL_NS,
):
    """Private initialiser: only the contract account itself may call it, once."""
    if env.predecessor() != env.current_account():
        env.panic("Only the contract account can initialize")
    if env.read("cfg") is not None:
        env.panic("Already initialized")
    for name, value in (("owner", owner), ("reputation_contract", reputation_contract)):
        if not isinstance(value, str) or not 2 <= len(value) <= MAX_ACCOUNT_LEN:
            env.panic("Invalid " + name + ": expected an account id")
    _check_fee(env, fee_bps)
    cfg = {
        "owner": owner,
        "reputation_contract": reputation_contract,
        "fee_bps": fee_bps,
        "next_id": 1,
        "fees_collected": "0",
        "attesters": [],
    }
    _apply_policy(env, cfg, storage_deposit, rating_weight_cap, attest_interval_ns)
    _save_config(env, cfg)
    return cfg


def _apply_policy(env, cfg, storage_deposit, rating_weight_cap, attest_interval_ns):
    if storage_deposit is None:
        storage_deposit = cfg.get("storage_deposit", STORAGE_DEPOSIT)
    if rating_weight_cap is None:
        rating_weight_cap = cfg.get("rating_weight_cap", RATING_WEIGHT_CAP)
    if attest_interval_ns is None:
        attest_interval_ns = cfg.get("attest_interval_ns", ATTEST_INTERVAL_NS)
    deposit = parse_u128(env, storage_deposit, "storage_deposit")
    cap = parse_u128(env, rating_weight_cap, "rating_weight_cap")
    if cap < 1:
        env.panic("Invalid rating_weight_cap: expected at least 1 yoctoNEAR")
    interval = _int_arg(env, attest_interval_ns, "attest_interval_ns", 0, 365 * 24 * 3600 * 10**9)
    cfg["storage_deposit"] = str(deposit)
    cfg["rating_weight_cap"] = str(cap)
    cfg["attest_interval_ns"] = interval


def _check_fee(env, fee_bps):
    if isinstance(fee_bps, bool) or not isinstance(fee_bps, int) or not 0 <= fee_bps <= MAX_FEE_BPS:
        env.panic("Invalid fee_bps: expected an integer 0-" + str(MAX_FEE_BPS))


def get_config(env):
    return _config(env)


def set_fee_rate(env, fee_bps):
    cfg = _config(env)
    _assert_owner(env, cfg)
    _check_fee(env, fee_bps)
    cfg["fee_bps"] = fee_bps
    _save_config(env, cfg)
    return cfg


def set_policy(env, storage_deposit=None, rating_weight_cap=None, attest_interval_ns=None):
    """Owner: the deposit new registrations pay, the payment that gives a rating full weight,
    and the least time between two attestations of one pattern by one attester."""
    cfg = _config(env)
    _assert_owner(env, cfg)
    _apply_policy(env, cfg, storage_deposit, rating_weight_cap, attest_interval_ns)
    _save_config(env, cfg)
    return cfg


def add_attester(env, account):
    """Owner: allow a validator's NEAR account to attest patterns."""
    cfg = _config(env)
    _assert_owner(env, cfg)
    _check_account(env, account, "account")
    if account not in cfg["attesters"]:
        if len(cfg["attesters"]) >= MAX_ATTESTERS:
            env.panic("Too many attesters")
        cfg["attesters"].append(account)
        _save_config(env, cfg)
    return cfg


def remove_attester(env, account):
    """Owner: its attestations stop counting at each pattern's next attestation."""
    cfg = _config(env)
    _assert_owner(env, cfg)
    if account in cfg["attesters"]:
        cfg["attesters"].remove(account)
        _save_config(env, cfg)
    return cfg


# ----- patterns ------------------------------------------------------------------------------


def register_pattern(env, pattern_hash, metadata_cid, domain, price_per_use):
    """Register a pattern (payable: at least the storage deposit, the excess is sent back);
    the earliest registration of a content hash wins (as SN56 does). The new pattern starts
    from its creator's standing."""
    cfg = _config(env)
    _check_hash(env, pattern_hash)
    _check_cid(env, metadata_cid)
    _check_domain(env, domain)
    price = parse_u128(env, price_per_use, "price_per_use")
    deposit = int(cfg["storage_deposit"])
    attached = env.attached_deposit()
    if attached < deposit:
        env.panic("Attach the storage deposit: " + str(deposit) + " yoctoNEAR")
    existing = env.read("h:" + pattern_hash)
    if existing is not None:
        env.panic("Pattern already registered as " + existing)
    ids = _domain_ids(env, domain)
    if len(ids) >= MAX_PATTERNS_PER_DOMAIN:
        env.panic("Domain is full")
    creator_id = env.predecessor()
    creator = _load_creator_record(env, creator_id)
    pattern_id = cfg["next_id"]
    cfg["next_id"] = pattern_id + 1
    base = creator_standing(creator)
    pattern = {
        "id": pattern_id,
        "creator": creator_id,
        "pattern_hash": pattern_hash,
        "metadata_cid": metadata_cid,
        "domain": domain,
        "price_per_use": price,
        "registered_at": env.block_timestamp(),
        "usage_count": 0,
        "total_earned": 0,
        "rating_count": 0,
        "success_count": 0,
        "w_weight": 0,
        "w_rating": 0,
        "w_success": 0,
        "last_rated_at": 0,
        "base_reputation_ppm": base,
        "reputation_ppm": base,
        "evidence_ppm": 0,
        "status": "unverified",
        "attested_quality_ppm": 0,
        "attestations": 0,
        "quarantine_reason": "",
        "deposit": deposit,
    }
    ids.append(pattern_id)
    _save_domain(env, domain, ids)
    env.write("h:" + pattern_hash, str(pattern_id))
    _save_config(env, cfg)
    _save_pattern(env, pattern)
    creator["patterns"] += 1
    _save_creator(env, creator)
    env.log("register_pattern " + str(pattern_id) + " " + pattern_hash)
    _send(env, creator_id, attached - deposit, "refund")
    return pattern_id


def remove_pattern(env, pattern_id):
    """The creator withdraws a pattern: its records go and its storage deposit is sent back.
    Its id is never reused; its content hash may be registered again. What it taught about its
    creator stays in the creator's standing: removing a pattern rated down (or quarantined)
    does not clean the record."""
    _config(env)
    pattern = _load_pattern(env, parse_pattern_id(env, pattern_id))
    if env.predecessor() != pattern["creator"]:
        env.panic("Only the creator can remove a pattern")
    creator = _load_creator_record(env, pattern["creator"])
    creator["patterns"] -= 1
    _save_creator(env, creator)
    ids = _domain_ids(env, pattern["domain"])
    if pattern["id"] in ids:
        ids.remove(pattern["id"])
    _save_domain(env, pattern["domain"], ids)
    env.remove("p:" + str(pattern["id"]))
    env.remove("h:" + pattern["pattern_hash"])
    env.remove("a:" + str(pattern["id"]))
    env.log("remove_pattern " + str(pattern["id"]))
    _send(env, pattern["creator"], pattern["deposit"], "refund")
    return {"pattern_id": pattern["id"], "refund": str(pattern["deposit"])}


def get_pattern(env, pattern_id):
    raw = env.read_bytes("p:" + str(parse_pattern_id(env, pattern_id)))
    return None if raw is None else Raw(raw)


def get_pattern_by_hash(env, pattern_hash):
    _check_hash(env, pattern_hash)
    found = env.read("h:" + pattern_hash)
    return None if found is None else get_pattern(env, int(found))


def get_creator(env, account):
    """A creator's standing: the evidence-weighted mean reputation of its patterns."""
    _check_account(env, account, "account")
    return _public_creator(_load_creator_record(env, account))


def use_pattern(env, pattern_id):
    """Pay for one use: 100% of the deposit counts, the creator gets it less fee_bps/10000 by a
    transfer (credited to withdraw_payout if it fails). A use of a priced pattern lets the payer
    rate it once, with a weight of what they paid over rating_weight_cap (at most 1)."""
    cfg = _config(env)
    pattern = _load_pattern(env, parse_pattern_id(env, pattern_id))
    if pattern["status"] == "quarantined":
        env.panic("Pattern is quarantined: " + pattern["quarantine_reason"])
    payment = env.attached_deposit()
    if payment < pattern["price_per_use"]:
        env.panic("Insufficient payment")
    fee = payment * cfg["fee_bps"] // FEE_DENOMINATOR
    creator_share = payment - fee
    pattern["usage_count"] += 1
    pattern["total_earned"] += payment
    _save_pattern(env, pattern)
    cfg["fees_collected"] = str(int(cfg["fees_collected"]) + fee)
    _save_config(env, cfg)
    if pattern["price_per_use"] > 0:
        cap = int(cfg["rating_weight_cap"])
        weight = min(payment, cap) * PPM // cap
        user_key = "u:" + str(pattern["id"]) + ":" + env.predecessor()
        raw = env.read(user_key)
        pending = json.loads(raw) if raw is not None else []
        if len(pending) < MAX_PENDING_RATINGS:
            pending.append(weight)
            env.write(user_key, json.dumps(pending))
    _send(env, pattern["creator"], creator_share, "creator")
    return {
        "pattern_id": pattern["id"],
        "paid": str(payment),
        "creator_share": str(creator_share),
        "fee": str(fee),
    }


def rate_pattern(env, pattern_id, success, rating):
    """Rate a pattern once per paid use of it (never a free one); the creator may not rate
    their own. The rating weighs what that use paid (see use_pattern)."""
    cfg = _config(env)
    pattern = _load_pattern(env, parse_pattern_id(env, pattern_id))
    if not isinstance(success, bool):
        env.panic("Invalid success: expected true or false")
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        env.panic("Invalid rating: expected an integer 1-5")
    rater = env.predecessor()
    if rater == pattern["creator"]:
        env.panic("Creators cannot rate their own patterns")
    user_key = "u:" + str(pattern["id"]) + ":" + rater
    raw = env.read(user_key)
    pending = json.loads(raw) if raw is not None else []
    if not pending:
        env.panic("Rate only after a paid use of a priced pattern")
    weight = pending.pop(0)
    if pending:
        env.write(user_key, json.dumps(pending))
    else:
        env.remove(user_key)
    now = env.block_timestamp()
    if weight > 0:
        keep = decay_ppm(now - pattern["last_rated_at"]) if pattern["w_weight"] else PPM
        pattern["w_weight"] = pattern["w_weight"] * keep // PPM + weight
        pattern["w_rating"] = pattern["w_rating"] * keep // PPM + rating * weight
        pattern["w_success"] = pattern["w_success"] * keep // PPM + (weight if success else 0)
        pattern["last_rated_at"] = now
    pattern["rating_count"] += 1
    if success:
        pattern["success_count"] += 1
    _rescore(env, pattern)
    outcome = {"success": success, "rating": rating, "weight_ppm": weight}
    args = {"account": pattern["creator"], "pattern_id": pattern["id"], "outcome": outcome}
    env.call(cfg["reputation_contract"], "update_reputation", json.dumps(args), 0, REPUTATION_GAS)
    return _public(pattern)


def find_patterns(env, domain, min_reputation=0, limit=20, from_index=0):
    """One page of a domain's patterns with reputation >= min_reputation (0..1), in the
    domain's order, quarantined ones left out: {"patterns": [...], "next_index": n or null}.

    A page reads at most MAX_SCAN_PER_CALL patterns from position `from_index` and stops at
    `limit` matches; `next_index` is where the next page starts (null at the end). Ranking is
    the caller's: it pages to the end and sorts (mycel_subnet/near/client.py does).
    """
    _check_domain(env, domain)
    if isinstance(min_reputation, bool) or not isinstance(min_reputation, (int, float)):
        env.panic("Invalid min_reputation: expected a number 0-1")
    if not 0 <= min_reputation <= 1:
        env.panic("Invalid min_reputation: expected a number 0-1")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_FIND_LIMIT:
        env.panic("Invalid limit: expected an integer 1-" + str(MAX_FIND_LIMIT))
    ids = _domain_ids(env, domain)
    from_index = _int_arg(env, from_index, "from_index", 0, MAX_PATTERNS_PER_DOMAIN)
    threshold = int(min_reputation * PPM)
    end = min(len(ids), from_index + MAX_SCAN_PER_CALL)
    parts = []
    at = from_index
    while at < end and len(parts) < limit:
        raw = env.read_bytes("p:" + str(ids[at]))
        at += 1
        if raw is None or _is_quarantined(raw):
            continue
        if _int_field(raw, REPUTATION_KEY) >= threshold:
            parts.append(raw)
    next_index = b"null" if at >= len(ids) else str(at).encode()
    # One join: every `+` of large bytes in MicroPython copies and rehashes the whole result.
    pieces = [b'{"patterns": [']
    for i in range(len(parts)):
        if i:
            pieces.append(b", ")
        pieces.append(parts[i])
    pieces.append(b'], "next_index": ')
    pieces.append(next_index)
    pieces.append(b"}")
    return Raw(b"".join(pieces))


# ----- attestation ---------------------------------------------------------------------------


def _load_attestations(env, pattern_id):
    raw = env.read("a:" + str(pattern_id))
    return {} if raw is None else json.loads(raw)


def attest_pattern(env, pattern_id, quality_ppm, safe, reason=""):
    """An attester (a validator's NEAR account, owner-listed) records its verdict on a pattern:
    quality 0..1e6 ppm and whether it is safe. At most one per (attester, pattern) per
    attest_interval_ns. The pattern's attested quality is the mean over the current attesters'
    latest verdicts; it is quarantined (hidden from find_patterns, refused by use_pattern,
    reputation 0) while at least half of them judge it unsafe."""
    cfg = _config(env)
    attester = env.predecessor()
    if attester not in cfg["attesters"]:
        env.panic("Only an attester can attest patterns")
    pattern = _load_pattern(env, parse_pattern_id(env, pattern_id))
    quality = _int_arg(env, quality_ppm, "quality_ppm", 0, PPM)
    if not isinstance(safe, bool):
        env.panic("Invalid safe: expected true or false")
    _check_reason(env, reason)
    if not safe and not reason:
        env.panic("Invalid reason: an unsafe verdict needs a reason")
    now = env.block_timestamp()
    verdicts = _load_attestations(env, pattern["id"])
    previous = verdicts.get(attester)
    if previous is not None and now < previous[2] + cfg["attest_interval_ns"]:
        env.panic(
            "Attested too recently: next attestation of pattern "
            + str(pattern["id"])
            + " by "
            + attester
            + " at "
            + str(previous[2] + cfg["attest_interval_ns"])
        )
    verdicts[attester] = [quality, 1 if safe else 0, now]
    current = {}
    for name in sorted(verdicts):  # one order in every runtime
        if name in cfg["attesters"]:
            current[name] = verdicts[name]
    env.write("a:" + str(pattern["id"]), json.dumps(current))
    total = 0
    unsafe = 0
    for name in current:
        total += current[name][0]
        if current[name][1] == 0:
            unsafe += 1
    pattern["attestations"] = len(current)
    pattern["attested_quality_ppm"] = total // len(current)
    if 2 * unsafe >= len(current) and unsafe > 0:
        pattern["status"] = "quarantined"
        if not safe:
            pattern["quarantine_reason"] = reason
    else:
        pattern["status"] = "verified"
        pattern["quarantine_reason"] = ""
    _rescore(env, pattern)
    env.log("attest_pattern " + str(pattern["id"]) + " " + attester + " " + pattern["status"])
    return _public(pattern)


def get_attestations(env, pattern_id):
    """Each attester's latest verdict on a pattern: quality_ppm, safe, attested_at (ns)."""
    out = []
    verdicts = _load_attestations(env, parse_pattern_id(env, pattern_id))
    for name in sorted(verdicts):
        quality, safe, at = verdicts[name]
        out.append({"attester": name, "quality_ppm": quality, "safe": safe == 1, "attested_at": at})
    return out


# ----- money out -----------------------------------------------------------------------------


def on_transfer_done(env, receiver, amount, kind):
    """Private callback after each outgoing transfer: when it failed, the amount is owed to the
    receiver (withdraw_payout), or goes back to the fee pool if it was the owner's fees."""
    _assert_private(env)
    if env.promise_count() != 1:
        env.panic("Expected the result of one transfer")
    if env.promise_ok(0):
        return {"sent": True}
    value = parse_u128(env, amount, "amount")
    if kind == "fees":
        cfg = _config(env)
        cfg["fees_collected"] = str(int(cfg["fees_collected"]) + value)
        _save_config(env, cfg)
    else:
        _credit(env, receiver, value)
    env.log("transfer of " + str(value) + " to " + receiver + " failed: kept for it")
    return {"sent": False}


def get_payout(env, account):
    """yoctoNEAR owed to `account` because a transfer to it failed (withdraw_payout sends it)."""
    _check_account(env, account, "account")
    have = env.read("b:" + account)
    return "0" if have is None else have


def withdraw_payout(env):
    """Send the caller what failed transfers left owed to it."""
    _config(env)
    account = env.predecessor()
    have = env.read("b:" + account)
    amount = 0 if have is None else int(have)
    if amount > 0:
        env.remove("b:" + account)
        _send(env, account, amount, "payout")
    return str(amount)


def withdraw_fees(env):
    """Send the collected protocol fees to the owner (only the owner may call)."""
    cfg = _config(env)
    _assert_owner(env, cfg)
    amount = int(cfg["fees_collected"])
    cfg["fees_collected"] = "0"
    _save_config(env, cfg)
    _send(env, cfg["owner"], amount, "fees")
    return str(amount)


# ----- dispatch: the single entry every runtime uses -----------------------------------------

METHODS = {
    "init": (
        init,
        ("owner", "reputation_contract"),
        ("fee_bps", "storage_deposit", "rating_weight_cap", "attest_interval_ns"),
    ),
    "get_config": (get_config, (), ()),
    "set_fee_rate": (set_fee_rate, ("fee_bps",), ()),
    "set_policy": (set_policy, (), ("storage_deposit", "rating_weight_cap", "attest_interval_ns")),
    "add_attester": (add_attester, ("account",), ()),
    "remove_attester": (remove_attester, ("account",), ()),
    "register_pattern": (
        register_pattern,
        ("pattern_hash", "metadata_cid", "domain", "price_per_use"),
        (),
    ),
    "remove_pattern": (remove_pattern, ("pattern_id",), ()),
    "get_pattern": (get_pattern, ("pattern_id",), ()),
    "get_pattern_by_hash": (get_pattern_by_hash, ("pattern_hash",), ()),
    "get_creator": (get_creator, ("account",), ()),
    "use_pattern": (use_pattern, ("pattern_id",), ()),
    "rate_pattern": (rate_pattern, ("pattern_id", "success", "rating"), ()),
    "find_patterns": (find_patterns, ("domain",), ("min_reputation", "limit", "from_index")),
    "attest_pattern": (attest_pattern, ("pattern_id", "quality_ppm", "safe"), ("reason",)),
    "get_attestations": (get_attestations, ("pattern_id",), ()),
    "on_transfer_done": (on_transfer_done, ("receiver", "amount", "kind"), ()),
    "get_payout": (get_payout, ("account",), ()),
    "withdraw_payout": (withdraw_payout, (), ()),
    "withdraw_fees": (withdraw_fees, (), ()),
}


def dispatch(env, method, args):
    """Check method, deposit and arguments, then run the method; returns a JSON-able value
    (or a Raw holding JSON text)."""
    entry = METHODS.get(method)
    if entry is None:
        env.panic("Unknown method: " + str(method))
    if method not in PAYABLE_METHODS and env.attached_deposit() > 0:
        env.panic("Method " + method + " doesn't accept deposit")
    if not isinstance(args, dict):
        env.panic("Arguments must be a JSON object")
    func, required, optional = entry
    # sorted: MicroPython dicts keep no insertion order, and every runtime must name the same key
    for key in sorted(args):
        if key not in required and key not in optional:
            env.panic("Unexpected argument: " + str(key))
    values = []
    for key in required:
        if key not in args:
            env.panic("Missing argument: " + key)
        values.append(args[key])
    kwargs = {}
    for key in optional:
        if key in args:
            kwargs[key] = args[key]
    return func(env, *values, **kwargs)
