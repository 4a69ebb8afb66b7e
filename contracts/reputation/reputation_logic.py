"""ReputationSystem contract logic, as plain functions over the same `env` interface as the
registry (see contracts/pattern_registry/registry_logic.py for the interface). MicroPython-safe:
no dataclasses, typing or re; integer fixed point (ppm: 1_000_000 means 1.0).

Composite score of an account (ppm):
  usage   = (Bayesian average of its success ratings, prior 2 x 3 stars, normalised to 0..1)
            x (successful + 1) / (successful + failed + 2)
  rewards = exponential moving average (alpha 1/5) of the validator-mirrored reward scores
  composite = usage while no rewards were mirrored, else (7 x usage + 3 x rewards) / 10
"""

import json

PPM = 1000000
PRIOR_RATING = 3
PRIOR_WEIGHT = 2
MAX_ACCOUNT_LEN = 64
MAX_REWARD_ENTRIES = 256
MAX_VALIDATORS = 64
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
ACCOUNT_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
SEPARATORS = "-_."
DIGITS = "0123456789"

VIEW_METHODS = ("get_config", "get_reputation")
PAYABLE_METHODS = ()


def _config(env):
    raw = env.read("cfg")
    if raw is None:
        env.panic("Contract is not initialized")
    return json.loads(raw)


def is_account_id(value):
    """NEAR account id rules: 2-64 chars, a-z 0-9 parts joined by single '-', '_' or '.'."""
    if not isinstance(value, str) or not 2 <= len(value) <= MAX_ACCOUNT_LEN:
        return False
    previous_sep = True
    for ch in value:
        if ch in SEPARATORS:
            if previous_sep:
                return False
            previous_sep = True
        elif ch in ACCOUNT_CHARS:
            previous_sep = False
        else:
            return False
    return not previous_sep


def is_ss58(value):
    """A Bittensor hotkey address (SS58, base58, 46-48 characters)."""
    if not isinstance(value, str) or not 46 <= len(value) <= 48:
        return False
    return all(ch in BASE58 for ch in value)


def _check_subject(env, value, name):
    if not (is_account_id(value) or is_ss58(value)):
        env.panic("Invalid " + name + ": expected a NEAR account id or an SS58 hotkey")


def _default_score(account):
    return {
        "account": account,
        "successful_uses": 0,
        "failed_uses": 0,
        "total_rating": 0,
        "reward_ema_ppm": 0,
        "reward_epochs": 0,
        "last_epoch": -1,
        "composite_ppm": 0,
        "updated_at": 0,
    }


def composite(score):
    good = score["successful_uses"]
    bad = score["failed_uses"]
    avg = (PRIOR_WEIGHT * PRIOR_RATING + score["total_rating"]) * PPM // (PRIOR_WEIGHT + good)
    usage = (avg - PPM) // 4 * (good + 1) // (good + bad + 2)
    if score["reward_epochs"] == 0:
        return usage
    return (7 * usage + 3 * score["reward_ema_ppm"]) // 10


def _load(env, account):
    raw = env.read("s:" + account)
    if raw is None:
        score = _default_score(account)
        score["composite_ppm"] = composite(score)
        return score
    return json.loads(raw)


def _save(env, score):
    score["composite_ppm"] = composite(score)
    score["updated_at"] = env.block_timestamp()
    env.write("s:" + score["account"], json.dumps(score))


def _assert_owner(env, cfg):
    if env.predecessor() != cfg["owner"]:
        env.panic("Only the owner can do this")


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
    """Record one rated use of `account`'s pattern; only the registry contract may call."""
    cfg = _config(env)
    if env.predecessor() != cfg["registry_contract"]:
        env.panic("Unauthorized")
    _check_subject(env, account, "account")
    if isinstance(pattern_id, bool) or not isinstance(pattern_id, int) or pattern_id < 1:
        env.panic("Invalid pattern_id: expected a positive integer")
    if not isinstance(outcome, dict) or not isinstance(outcome.get("success"), bool):
        env.panic("Invalid outcome: expected {success: bool, rating: 1-5}")
    rating = outcome.get("rating", 0)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        env.panic("Invalid outcome: expected {success: bool, rating: 1-5}")
    score = _load(env, account)
    if outcome["success"]:
        score["successful_uses"] += 1
        score["total_rating"] += rating
    else:
        score["failed_uses"] += 1
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
    if isinstance(value, str) and 0 < len(value) <= 7 and all(ch in DIGITS for ch in value):
        value = int(value)
    if not isinstance(value, int) or not 0 <= value <= PPM:
        env.panic("Invalid reward for " + subject + ": expected ppm 0-1000000")
    return value


def record_validator_rewards(env, epoch, entries):
    """Mirror one subnet weight-setting: entries map subject -> reward score in ppm (0..1e6).

    Callable by the owner or an allow-listed validator. Each caller's epochs must strictly
    increase, so a replayed or repeated mirror is refused instead of counted twice.
    """
    cfg = _config(env)
    caller = env.predecessor()
    if caller != cfg["owner"] and caller not in cfg["validators"]:
        env.panic("Unauthorized")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        env.panic("Invalid epoch: expected a non-negative integer")
    if not isinstance(entries, dict) or not 0 < len(entries) <= MAX_REWARD_ENTRIES:
        env.panic("Invalid entries: expected 1-" + str(MAX_REWARD_ENTRIES) + " rewards")
    last = env.read("e:" + caller)
    if last is not None and epoch <= int(last):
        env.panic("Stale epoch: " + str(epoch) + " <= " + last)
    parsed = []
    for subject in sorted(entries):  # one order in every runtime: the same first error
        _check_subject(env, subject, "subject")
        parsed.append((subject, _parse_reward(env, entries[subject], subject)))
    for subject, reward in parsed:
        score = _load(env, subject)
        if score["reward_epochs"] == 0:
            score["reward_ema_ppm"] = reward
        else:
            score["reward_ema_ppm"] = (4 * score["reward_ema_ppm"] + reward) // 5
        score["reward_epochs"] += 1
        score["last_epoch"] = epoch
        _save(env, score)
    env.write("e:" + caller, str(epoch))
    env.log("record_validator_rewards " + caller + " epoch " + str(epoch))
    return {"epoch": epoch, "recorded": len(parsed)}


METHODS = {
    "init": (init, ("owner", "registry_contract"), ()),
    "get_config": (get_config, (), ()),
    "get_reputation": (get_reputation, ("account",), ()),
    "update_reputation": (update_reputation, ("account", "pattern_id", "outcome"), ()),
    "add_validator": (add_validator, ("account",), ()),
    "remove_validator": (remove_validator, ("account",), ()),
    "record_validator_rewards": (record_validator_rewards, ("epoch", "entries"), ()),
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
