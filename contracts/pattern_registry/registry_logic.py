"""PatternRegistry contract logic, as plain functions over a small `env` interface.

The same file runs in three places: compiled to WASM by nearc (MicroPython, see main.py), under
the CPython host (mycel_subnet/near/host.py) and inside the local ledger. It therefore uses only
what MicroPython has: no dataclasses, no typing, no re, and integer fixed point instead of floats
so every runtime computes the same scores.

The env interface (implemented by main.NearEnv and mycel_subnet.near.host.Host):
  predecessor() -> str         current_account() -> str      attached_deposit() -> int
  block_timestamp() -> int ns  read(key) -> str or None      write(key, value_str)
  remove(key)                  transfer(receiver, amount)    log(message)
  call(receiver, method, args_json, deposit, gas)   (a cross-contract promise)
  panic(message)               (never returns)

Reputation numbers are parts per million (ppm): 1_000_000 means 1.0.
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
HALF_LIFE_NS = 30 * 24 * 3600 * 1000000000  # ratings lose half their weight every 30 days
PRIOR_RATING = 3  # Bayesian prior: a new pattern looks like two ratings of 3 stars
PRIOR_WEIGHT = 2
REPUTATION_GAS = 20 * 10**12

HEX = "0123456789abcdef"
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BASE32_LOWER = "abcdefghijklmnopqrstuvwxyz234567"
DOMAIN_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_-"

VIEW_METHODS = ("get_config", "get_pattern", "find_patterns", "get_pattern_by_hash")
PAYABLE_METHODS = ("use_pattern",)


# ----- helpers -------------------------------------------------------------------------------


def _config(env):
    raw = env.read("cfg")
    if raw is None:
        env.panic("Contract is not initialized")
    return json.loads(raw)


def _only_chars(value, allowed):
    return all(ch in allowed for ch in value)


def parse_u128(env, value, name):
    """Accept NEAR's U128 wire form (a decimal string) or a JSON integer; refuse the rest."""
    if isinstance(value, bool):
        env.panic("Invalid " + name + ": expected a decimal string")
    if isinstance(value, int):
        amount = value
    elif isinstance(value, str) and 0 < len(value) <= 39 and _only_chars(value, "0123456789"):
        amount = int(value)
    else:
        env.panic("Invalid " + name + ": expected a decimal string")
    if amount < 0 or amount > MAX_U128:
        env.panic("Invalid " + name + ": out of u128 range")
    return amount


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


def pattern_reputation(pattern):
    """Composite pattern score in ppm: Bayesian average rating (normalised to 0..1) x success.

    avg = (PRIOR_WEIGHT * PRIOR_RATING + sum of decayed ratings) / (PRIOR_WEIGHT + decayed weight)
    success = (decayed successes + 1) / (decayed ratings + 2)   (Laplace smoothing)
    score = (avg - 1) / 4 * success
    """
    weight = pattern["w_weight"]
    avg = (PRIOR_WEIGHT * PRIOR_RATING * PPM + pattern["w_rating"]) * PPM
    avg = avg // (PRIOR_WEIGHT * PPM + weight)
    normalised = (avg - PPM) // 4
    success = (pattern["w_success"] + PPM) * PPM // (weight + 2 * PPM)
    return normalised * success // PPM


def _public(pattern):
    out = dict(pattern)
    out["price_per_use"] = str(pattern["price_per_use"])
    out["total_earned"] = str(pattern["total_earned"])
    return out


def _load_pattern(env, pattern_id):
    raw = env.read("p:" + str(pattern_id))
    if raw is None:
        env.panic("Pattern not found")
    pattern = json.loads(raw)
    pattern["price_per_use"] = int(pattern["price_per_use"])
    pattern["total_earned"] = int(pattern["total_earned"])
    return pattern


def _save_pattern(env, pattern):
    env.write("p:" + str(pattern["id"]), json.dumps(_public(pattern)))


def _assert_owner(env, cfg):
    if env.predecessor() != cfg["owner"]:
        env.panic("Only the owner can do this")


# ----- methods -------------------------------------------------------------------------------


def init(env, owner, reputation_contract, fee_bps=DEFAULT_FEE_BPS):
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
    }
    env.write("cfg", json.dumps(cfg))
    return cfg


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
    env.write("cfg", json.dumps(cfg))
    return cfg


def register_pattern(env, pattern_hash, metadata_cid, domain, price_per_use):
    """Register a pattern; the earliest registration of a content hash wins (as SN56 does)."""
    cfg = _config(env)
    _check_hash(env, pattern_hash)
    _check_cid(env, metadata_cid)
    _check_domain(env, domain)
    price = parse_u128(env, price_per_use, "price_per_use")
    existing = env.read("h:" + pattern_hash)
    if existing is not None:
        env.panic("Pattern already registered as " + existing)
    index_raw = env.read("d:" + domain)
    index = json.loads(index_raw) if index_raw is not None else []
    if len(index) >= MAX_PATTERNS_PER_DOMAIN:
        env.panic("Domain is full")
    pattern_id = cfg["next_id"]
    cfg["next_id"] = pattern_id + 1
    pattern = {
        "id": pattern_id,
        "creator": env.predecessor(),
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
        "reputation_ppm": 0,
    }
    pattern["reputation_ppm"] = pattern_reputation(pattern)
    index.append(pattern_id)
    env.write("d:" + domain, json.dumps(index))
    env.write("h:" + pattern_hash, str(pattern_id))
    env.write("cfg", json.dumps(cfg))
    _save_pattern(env, pattern)
    env.log("register_pattern " + str(pattern_id) + " " + pattern_hash)
    return pattern_id


def get_pattern(env, pattern_id):
    raw = env.read("p:" + str(parse_pattern_id(env, pattern_id)))
    return None if raw is None else json.loads(raw)


def get_pattern_by_hash(env, pattern_hash):
    _check_hash(env, pattern_hash)
    found = env.read("h:" + pattern_hash)
    return None if found is None else get_pattern(env, int(found))


def use_pattern(env, pattern_id):
    """Pay for one use: 100% of the deposit counts, creator gets it less fee_bps/10000."""
    cfg = _config(env)
    pattern = _load_pattern(env, parse_pattern_id(env, pattern_id))
    payment = env.attached_deposit()
    if payment < pattern["price_per_use"]:
        env.panic("Insufficient payment")
    fee = payment * cfg["fee_bps"] // FEE_DENOMINATOR
    creator_share = payment - fee
    pattern["usage_count"] += 1
    pattern["total_earned"] += payment
    _save_pattern(env, pattern)
    cfg["fees_collected"] = str(int(cfg["fees_collected"]) + fee)
    env.write("cfg", json.dumps(cfg))
    user_key = "u:" + str(pattern["id"]) + ":" + env.predecessor()
    unrated = env.read(user_key)
    env.write(user_key, str((int(unrated) if unrated is not None else 0) + 1))
    if creator_share > 0:
        env.transfer(pattern["creator"], creator_share)
    return {
        "pattern_id": pattern["id"],
        "paid": str(payment),
        "creator_share": str(creator_share),
        "fee": str(fee),
    }


def rate_pattern(env, pattern_id, success, rating):
    """Rate a pattern once per paid use; the creator may not rate their own pattern."""
    _config(env)
    pattern = _load_pattern(env, parse_pattern_id(env, pattern_id))
    if not isinstance(success, bool):
        env.panic("Invalid success: expected true or false")
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        env.panic("Invalid rating: expected an integer 1-5")
    rater = env.predecessor()
    if rater == pattern["creator"]:
        env.panic("Creators cannot rate their own patterns")
    user_key = "u:" + str(pattern["id"]) + ":" + rater
    unrated = env.read(user_key)
    if unrated is None or int(unrated) < 1:
        env.panic("Rate only after a paid use")
    left = int(unrated) - 1
    if left:
        env.write(user_key, str(left))
    else:
        env.remove(user_key)
    now = env.block_timestamp()
    keep = decay_ppm(now - pattern["last_rated_at"]) if pattern["rating_count"] else PPM
    pattern["w_weight"] = pattern["w_weight"] * keep // PPM + PPM
    pattern["w_rating"] = pattern["w_rating"] * keep // PPM + rating * PPM
    pattern["w_success"] = pattern["w_success"] * keep // PPM + (PPM if success else 0)
    pattern["rating_count"] += 1
    if success:
        pattern["success_count"] += 1
    pattern["last_rated_at"] = now
    pattern["reputation_ppm"] = pattern_reputation(pattern)
    _save_pattern(env, pattern)
    outcome = {"success": success, "rating": rating}
    args = {"account": pattern["creator"], "pattern_id": pattern["id"], "outcome": outcome}
    cfg = _config(env)
    env.call(cfg["reputation_contract"], "update_reputation", json.dumps(args), 0, REPUTATION_GAS)
    return _public(pattern)


def find_patterns(env, domain, min_reputation=0, limit=20):
    """Patterns of one domain with reputation >= min_reputation (0..1), best first."""
    _check_domain(env, domain)
    if isinstance(min_reputation, bool) or not isinstance(min_reputation, (int, float)):
        env.panic("Invalid min_reputation: expected a number 0-1")
    if not 0 <= min_reputation <= 1:
        env.panic("Invalid min_reputation: expected a number 0-1")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_FIND_LIMIT:
        env.panic("Invalid limit: expected an integer 1-" + str(MAX_FIND_LIMIT))
    threshold = int(min_reputation * PPM)
    raw = env.read("d:" + domain)
    found = []
    for pattern_id in json.loads(raw) if raw is not None else []:
        pattern = json.loads(env.read("p:" + str(pattern_id)))
        if pattern["reputation_ppm"] >= threshold:
            found.append(pattern)
    found.sort(key=lambda p: (-p["reputation_ppm"], p["id"]))
    return found[:limit]


def withdraw_fees(env):
    """Send the collected protocol fees to the owner."""
    cfg = _config(env)
    _assert_owner(env, cfg)
    amount = int(cfg["fees_collected"])
    cfg["fees_collected"] = "0"
    env.write("cfg", json.dumps(cfg))
    if amount > 0:
        env.transfer(cfg["owner"], amount)
    return str(amount)


# ----- dispatch: the single entry every runtime uses -----------------------------------------

METHODS = {
    "init": (init, ("owner", "reputation_contract"), ("fee_bps",)),
    "get_config": (get_config, (), ()),
    "set_fee_rate": (set_fee_rate, ("fee_bps",), ()),
    "register_pattern": (
        register_pattern,
        ("pattern_hash", "metadata_cid", "domain", "price_per_use"),
        (),
    ),
    "get_pattern": (get_pattern, ("pattern_id",), ()),
    "get_pattern_by_hash": (get_pattern_by_hash, ("pattern_hash",), ()),
    "use_pattern": (use_pattern, ("pattern_id",), ()),
    "rate_pattern": (rate_pattern, ("pattern_id", "success", "rating"), ()),
    "find_patterns": (find_patterns, ("domain",), ("min_reputation", "limit")),
    "withdraw_fees": (withdraw_fees, (), ()),
}


def dispatch(env, method, args):
    """Check method, deposit and arguments, then run the method; returns a JSON-able value."""
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
