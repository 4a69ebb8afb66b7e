"""ReputationSystem contract logic, as plain functions over the same `env` interface as the
registry (see contracts/pattern_registry/registry_logic.py for the interface). MicroPython-safe:
no dataclasses, typing or re; integer fixed point (ppm: 1_000_000 means 1.0).

Composite score of an account (ppm), over payment-weighted ratings (each rating's weight_ppm
comes from the registry: what that use paid over its rating_weight_cap, at most 1e6):
  usage   = (Bayesian average of its successful ratings' stars, prior two full-weight 3-star
            ratings, normalised to 0..1) x (w_good + 1) / (w_good + w_bad + 2)   (weights in 1e6)
  rewards = exponential moving average (alpha 1/5) of the validator-mirrored reward scores
  composite = usage while no rewards were mirrored, else (7 x usage + 3 x rewards) / 10

Hotkey binding: a miner's hotkey signs "mycel-bind:v1:<near_account>:<hotkey>" (sr25519), the
NEAR account submits it with bind_hotkey, and an allow-listed validator that verified the
signature off-chain confirms it (this contract cannot verify sr25519: NEAR has no host function
for it). Rewards mirrored for a confirmed hotkey then credit its bound account.
"""

import json

PPM = 1000000
PRIOR_RATING = 3
PRIOR_WEIGHT = 2
MAX_ACCOUNT_LEN = 64
MAX_REWARD_ENTRIES = 128  # per call: a full subnet's 256 uids come as two parts (gas)
MAX_REWARD_PARTS = 16
MAX_VALIDATORS = 64
MAX_BINDING_REQUESTS = 8  # pending requests kept per hotkey (the oldest goes first)
BINDING_PREFIX = "mycel-bind:v1:"
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
ACCOUNT_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
SEPARATORS = "-_."
DIGITS = "0123456789"
HEX = "0123456789abcdef"

VIEW_METHODS = ("get_config", "get_reputation", "get_binding")
PAYABLE_METHODS = ()


def _config(env):
    raw = env.read("cfg")
    if raw is None:
        env.panic("Contract is not initialized")
    return json.loads(raw)


def is_account_id(value):
    """NEAR account id rules: 2-64 chars, a-z 0-9 parts joined by single '-', '_' or '.'.
    Checked with C-level string methods: a loop over the characters in MicroPython costs
    thousands of instructions each (256 rewards went over NEAR's gas limit)."""
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


def is_ss58(value):
    """A Bittensor hotkey address (SS58, base58, 46-48 characters)."""
    if not isinstance(value, str) or not 46 <= len(value) <= 48:
        return False
    return value.strip(BASE58) == ""


def _check_subject(env, value, name):
    """Whether `value` is an SS58 hotkey (True) or a NEAR account (False); else a panic."""
    if is_ss58(value):
        return True
    if not is_account_id(value):
        env.panic("Invalid " + name + ": expected a NEAR account id or an SS58 hotkey")
    return False


def _check_hotkey(env, value):
    if not is_ss58(value):
        env.panic("Invalid hotkey: expected an SS58 address")


def _check_account(env, value):
    if not is_account_id(value):
        env.panic("Invalid account: expected an account id")


def binding_statement(account, hotkey):
    """What the hotkey signs to bind itself to `account`."""
    return BINDING_PREFIX + account + ":" + hotkey


def _parse_signature(env, value):
    """An sr25519 signature: 64 bytes as hex (128 characters, an optional 0x); -> 0x + lower."""
    if isinstance(value, str) and len(value) == 130 and value[:2] == "0x":
        value = value[2:]
    if not isinstance(value, str) or len(value) != 128:
        env.panic("Invalid signature: expected 64 bytes of hex (128 characters, optional 0x)")
    low = value.lower()
    if low.strip(HEX) != "":
        env.panic("Invalid signature: expected 64 bytes of hex (128 characters, optional 0x)")
    return "0x" + low


def _default_score(account):
    return {
        "account": account,
        "successful_uses": 0,
        "failed_uses": 0,
        "total_rating": 0,
        "w_good_ppm": 0,
        "w_bad_ppm": 0,
        "w_rating_ppm": 0,
        "reward_ema_ppm": 0,
        "reward_epochs": 0,
        "last_epoch": -1,
        "composite_ppm": 0,
        "updated_at": 0,
    }


def usage_ppm(score):
    good = score["w_good_ppm"]
    bad = score["w_bad_ppm"]
    avg = (PRIOR_WEIGHT * PRIOR_RATING * PPM + score["w_rating_ppm"]) * PPM
    avg = avg // (PRIOR_WEIGHT * PPM + good)
    return (avg - PPM) // 4 * (good + PPM) // (good + bad + 2 * PPM)


def composite(score):
    usage = usage_ppm(score)
    if score["reward_epochs"] == 0:
        return usage
    return (7 * usage + 3 * score["reward_ema_ppm"]) // 10


# A score is stored as "2|" and its integer fields joined by commas, in this order, not as
# JSON: MicroPython's json.loads costs about 1,800 instructions a byte, which made a mirror of
# 256 rewards cost more gas than NEAR allows. Scores stored as JSON (an earlier version) load.
SCORE_FIELDS = (
    "successful_uses",
    "failed_uses",
    "total_rating",
    "w_good_ppm",
    "w_bad_ppm",
    "w_rating_ppm",
    "reward_ema_ppm",
    "reward_epochs",
    "last_epoch",
    "updated_at",
)
SCORE_VERSION = "2|"


def _load(env, account, with_composite=True):
    raw = env.read("s:" + account)
    score = _default_score(account)
    if raw is not None and raw[:2] == SCORE_VERSION:
        values = raw[2:].split(",")
        for i in range(len(SCORE_FIELDS)):
            score[SCORE_FIELDS[i]] = int(values[i])
    elif raw is not None:
        stored = json.loads(raw)
        if "w_good_ppm" not in stored:  # written by the version that counted every use as 1
            stored["w_good_ppm"] = stored["successful_uses"] * PPM
            stored["w_bad_ppm"] = stored["failed_uses"] * PPM
            stored["w_rating_ppm"] = stored["total_rating"] * PPM
        for key in stored:
            score[key] = stored[key]
    if with_composite:
        score["composite_ppm"] = composite(score)
    return score


def _store(env, score):
    score["updated_at"] = env.block_timestamp()
    values = [str(score[name]) for name in SCORE_FIELDS]
    env.write("s:" + score["account"], SCORE_VERSION + ",".join(values))


def _save(env, score):
    score["composite_ppm"] = composite(score)
    _store(env, score)


def _assert_owner(env, cfg):
    if env.predecessor() != cfg["owner"]:
        env.panic("Only the owner can do this")


def _assert_validator(env, cfg):
    caller = env.predecessor()
    if caller != cfg["owner"] and caller not in cfg["validators"]:
        env.panic("Unauthorized")
    return caller


def init(env, owner, registry_contract):
    """Private initialiser: only the contract account itself may call it, once."""
    if env.predecessor() != env.current_account():
        env.panic("Only the contract account can initialize")
    if env.read("cfg") is not None:
        env.panic("Already initialized")
    for name, value in (("owner", owner), ("registry_contract", registry_contract)):
        if not is_account_id(value):
            env.panic("Invalid " + name + ": expected an account id")
    cfg = {"owner": owner, "registry_contract": registry_contract, "validators": []}
    env.write("cfg", json.dumps(cfg))
    return cfg


def get_config(env):
    return _config(env)


def get_reputation(env, account):
    _check_subject(env, account, "account")
    return _load(env, account)


def update_reputation(env, account, pattern_id, outcome):
    """Record one rated use of `account`'s pattern; only the registry contract may call.
    outcome: {success, rating 1-5, weight_ppm 0-1e6 (what the use paid; 1e6 if absent)}."""
    cfg = _config(env)
    if env.predecessor() != cfg["registry_contract"]:
        env.panic("Unauthorized")
    _check_subject(env, account, "account")
    if isinstance(pattern_id, bool) or not isinstance(pattern_id, int) or pattern_id < 1:
        env.panic("Invalid pattern_id: expected a positive integer")
    if not isinstance(outcome, dict) or not isinstance(outcome.get("success"), bool):
        env.panic("Invalid outcome: expected {success: bool, rating: 1-5, weight_ppm}")
    rating = outcome.get("rating", 0)
    weight = outcome.get("weight_ppm", PPM)
    for value, low, high in ((rating, 1, 5), (weight, 0, PPM)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            env.panic("Invalid outcome: expected {success: bool, rating: 1-5, weight_ppm}")
    score = _load(env, account)
    if outcome["success"]:
        score["successful_uses"] += 1
        score["total_rating"] += rating
        score["w_good_ppm"] += weight
        score["w_rating_ppm"] += rating * weight
    else:
        score["failed_uses"] += 1
        score["w_bad_ppm"] += weight
    _save(env, score)
    return score


def add_validator(env, account):
    cfg = _config(env)
    _assert_owner(env, cfg)
    if not is_account_id(account):
        env.panic("Invalid account: expected an account id")
    if account not in cfg["validators"]:
        if len(cfg["validators"]) >= MAX_VALIDATORS:
            env.panic("Too many validators")
        cfg["validators"].append(account)
        env.write("cfg", json.dumps(cfg))
    return cfg


def remove_validator(env, account):
    cfg = _config(env)
    _assert_owner(env, cfg)
    if account in cfg["validators"]:
        cfg["validators"].remove(account)
        env.write("cfg", json.dumps(cfg))
    return cfg


def _parse_reward(env, value, subject):
    if isinstance(value, bool):
        env.panic("Invalid reward for " + subject + ": expected ppm 0-1000000")
    # ASCII digits only: CPython's isdigit() also accepts other scripts' digits, MicroPython's not
    if isinstance(value, str) and 0 < len(value) <= 7 and value.strip(DIGITS) == "":
        value = int(value)
    if not isinstance(value, int) or not 0 <= value <= PPM:
        env.panic("Invalid reward for " + subject + ": expected ppm 0-1000000")
    return value


def _bound_account(env, hotkey):
    # "ka:" holds the bound account as plain text beside the "k:" record (no JSON to parse)
    return env.read("ka:" + hotkey)


def record_validator_rewards(env, epoch, entries, part=0):
    """Mirror one subnet weight-setting: entries map subject -> reward score in ppm (0..1e6),
    at most 128 per call; a larger mirror comes in parts 0, 1, ... of the same epoch.

    Callable by the owner or an allow-listed validator. Each caller's (epoch, part) must
    strictly increase, so a replayed or repeated mirror is refused instead of counted twice. A
    hotkey with a confirmed binding credits its bound NEAR account (the best reward when
    several entries land on one account); `credited` counts those.
    """
    cfg = _config(env)
    caller = _assert_validator(env, cfg)
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        env.panic("Invalid epoch: expected a non-negative integer")
    if isinstance(part, bool) or not isinstance(part, int) or not 0 <= part < MAX_REWARD_PARTS:
        env.panic("Invalid part: expected an integer 0-" + str(MAX_REWARD_PARTS - 1))
    if not isinstance(entries, dict) or not 0 < len(entries) <= MAX_REWARD_ENTRIES:
        env.panic("Invalid entries: expected 1-" + str(MAX_REWARD_ENTRIES) + " rewards")
    last = env.read("e:" + caller)
    if last is not None:
        pieces = last.split(":")
        last_epoch = int(pieces[0])
        last_part = int(pieces[1]) if len(pieces) > 1 else 0
        if epoch < last_epoch or (epoch == last_epoch and part <= last_part):
            stale = "Stale epoch: " + str(epoch) + " <= " + str(last_epoch)
            if epoch == last_epoch and (part or last_part):
                stale += " (part " + str(part) + " <= " + str(last_part) + ")"
            env.panic(stale)
    best = {}
    credited = 0
    for subject in sorted(entries):  # one order in every runtime: the same first error
        hotkey = _check_subject(env, subject, "subject")
        reward = _parse_reward(env, entries[subject], subject)
        target = _bound_account(env, subject) if hotkey else None
        if target is not None:
            credited += 1
        else:
            target = subject
        if target not in best or reward > best[target]:
            best[target] = reward
    for target in sorted(best):
        score = _load(env, target, False)
        if score["reward_epochs"] == 0:
            score["reward_ema_ppm"] = best[target]
        else:
            score["reward_ema_ppm"] = (4 * score["reward_ema_ppm"] + best[target]) // 5
        score["reward_epochs"] += 1
        score["last_epoch"] = epoch
        _store(env, score)  # the composite is computed when read: not 128 times here
    env.write("e:" + caller, str(epoch) if part == 0 else str(epoch) + ":" + str(part))
    env.log("record_validator_rewards " + caller + " epoch " + str(epoch) + " part " + str(part))
    return {"epoch": epoch, "part": part, "recorded": len(best), "credited": credited}


# ----- hotkey binding ------------------------------------------------------------------------


def _load_requests(env, hotkey):
    raw = env.read("q:" + hotkey)
    return [] if raw is None else json.loads(raw)


def _save_requests(env, hotkey, requests):
    if requests:
        env.write("q:" + hotkey, json.dumps(requests))
    else:
        env.remove("q:" + hotkey)


def bind_hotkey(env, hotkey, signature):
    """The caller (a NEAR account) asks to be bound to `hotkey`, with the hotkey's sr25519
    signature of binding_statement(caller, hotkey). Kept pending until a validator verifies the
    signature and confirms; a newer request of the same account replaces its older one."""
    _config(env)
    _check_hotkey(env, hotkey)
    sig = _parse_signature(env, signature)
    account = env.predecessor()
    requests = [r for r in _load_requests(env, hotkey) if r["account"] != account]
    if len(requests) >= MAX_BINDING_REQUESTS:
        requests = requests[len(requests) - MAX_BINDING_REQUESTS + 1 :]
    request = {
        "account": account,
        "signature": sig,
        "statement": binding_statement(account, hotkey),
        "requested_at": env.block_timestamp(),
    }
    requests.append(request)
    _save_requests(env, hotkey, requests)
    env.log("bind_hotkey " + hotkey + " " + account)
    return request


def _take_request(env, hotkey, account):
    requests = _load_requests(env, hotkey)
    found = None
    rest = []
    for request in requests:
        if request["account"] == account and found is None:
            found = request
        else:
            rest.append(request)
    if found is None:
        env.panic("No binding request of " + account + " for " + hotkey)
    _save_requests(env, hotkey, rest)
    return found


def confirm_binding(env, hotkey, account):
    """A validator that verified the request's signature off-chain binds `hotkey` to
    `account` (replacing an earlier binding of that hotkey)."""
    cfg = _config(env)
    validator = _assert_validator(env, cfg)
    _check_hotkey(env, hotkey)
    _check_account(env, account)
    request = _take_request(env, hotkey, account)
    binding = {
        "hotkey": hotkey,
        "account": account,
        "signature": request["signature"],
        "statement": request["statement"],
        "confirmed_by": validator,
        "confirmed_at": env.block_timestamp(),
    }
    env.write("k:" + hotkey, json.dumps(binding))
    env.write("ka:" + hotkey, account)
    env.log("confirm_binding " + hotkey + " " + account + " by " + validator)
    return binding


def reject_binding(env, hotkey, account):
    """A validator drops a request whose signature does not verify."""
    cfg = _config(env)
    validator = _assert_validator(env, cfg)
    _check_hotkey(env, hotkey)
    _check_account(env, account)
    _take_request(env, hotkey, account)
    env.log("reject_binding " + hotkey + " " + account + " by " + validator)
    return {"hotkey": hotkey, "account": account, "rejected": True}


def unbind_hotkey(env, hotkey):
    """The bound account gives the binding up."""
    _config(env)
    _check_hotkey(env, hotkey)
    raw = env.read("k:" + hotkey)
    if raw is None or json.loads(raw)["account"] != env.predecessor():
        env.panic("Only the bound account can unbind " + hotkey)
    env.remove("k:" + hotkey)
    env.remove("ka:" + hotkey)
    return {"hotkey": hotkey, "account": None}


def get_binding(env, hotkey):
    """The confirmed binding of `hotkey` (account null when none) and its pending requests."""
    _check_hotkey(env, hotkey)
    raw = env.read("k:" + hotkey)
    out = {"hotkey": hotkey, "account": None} if raw is None else json.loads(raw)
    out["requests"] = _load_requests(env, hotkey)
    return out


METHODS = {
    "init": (init, ("owner", "registry_contract"), ()),
    "get_config": (get_config, (), ()),
    "get_reputation": (get_reputation, ("account",), ()),
    "update_reputation": (update_reputation, ("account", "pattern_id", "outcome"), ()),
    "add_validator": (add_validator, ("account",), ()),
    "remove_validator": (remove_validator, ("account",), ()),
    "record_validator_rewards": (record_validator_rewards, ("epoch", "entries"), ("part",)),
    "bind_hotkey": (bind_hotkey, ("hotkey", "signature"), ()),
    "confirm_binding": (confirm_binding, ("hotkey", "account"), ()),
    "reject_binding": (reject_binding, ("hotkey", "account"), ()),
    "unbind_hotkey": (unbind_hotkey, ("hotkey",), ()),
    "get_binding": (get_binding, ("hotkey",), ()),
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
