"""FlRounds contract logic: the public record of federated rounds, so rewards can be checked.

Each coordinator (a validator's account) records one entry per round: the global adapter it
started from and the one it published (CID + sha256), held-out loss before and after, the
central epsilon, and every accepted contribution (miner hotkey, update sha256, update CID, the
miner's sr25519 signature over its update claim, its score and its epsilon). The contract keeps
what lets a stranger audit the subnet without trusting the validator:

* rounds per coordinator strictly increase, and each round starts from the adapter the previous
  one published (a hash chain of global adapters);
* an update hash is recorded once, ever: a resubmitted (byte-identical) update is refused,
  naming the round and miner that committed it first;
* per miner: rounds contributed, summed score, last round.

Same env interface and MicroPython rules as contracts/pattern_registry/registry_logic.py: no
dataclasses, typing or re; integers only (ppm for scores, micro-units for loss and epsilon).
"""

import json

PPM = 1000000
MAX_ACCOUNT_LEN = 64
MAX_CONTRIBUTIONS = 64
MAX_COORDINATORS = 64
MAX_MODEL_LEN = 200
MAX_CID_LEN = 100
MAX_MICRO = 10**15
MAX_ROUND = 2**64 - 1
HEX = "0123456789abcdef"
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BASE32_LOWER = "abcdefghijklmnopqrstuvwxyz234567"
ACCOUNT_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
SEPARATORS = "-_."
MODEL_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:"
CONTRIBUTION_KEYS = ("epsilon_micro", "miner", "score_ppm", "signature", "update_cid",
                     "update_hash")  # fmt: skip

VIEW_METHODS = ("get_config", "get_round", "get_last", "get_update", "get_miner")
PAYABLE_METHODS = ()


def _config(env):
    raw = env.read("cfg")
    if raw is None:
        env.panic("Contract is not initialized")
    return json.loads(raw)


def _only(value, allowed):
    return all(ch in allowed for ch in value)


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
    return isinstance(value, str) and 46 <= len(value) <= 48 and _only(value, BASE58)


def is_hex(value, length):
    return isinstance(value, str) and len(value) == length and _only(value, HEX)


def is_cid(value):
    if not isinstance(value, str):
        return False
    if len(value) == 46 and value[:2] == "Qm":
        return _only(value, BASE58)
    return 10 <= len(value) <= MAX_CID_LEN and value[0] == "b" and _only(value[1:], BASE32_LOWER)


def _int(env, value, name, low, high):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        env.panic("Invalid " + name + ": expected an integer " + str(low) + "-" + str(high))
    return value


def _adapter(env, value, name):
    if not isinstance(value, dict) or sorted(value) != ["cid", "hash"]:
        env.panic("Invalid " + name + ": expected {cid, hash}")
    if not is_cid(value["cid"]):
        env.panic("Invalid " + name + ".cid: expected an IPFS CID")
    if not is_hex(value["hash"], 64):
        env.panic("Invalid " + name + ".hash: expected 64 lowercase hex characters")
    return {"cid": value["cid"], "hash": value["hash"]}


def _contribution(env, value, index):
    where = "contributions[" + str(index) + "]"
    if not isinstance(value, dict) or sorted(value) != list(CONTRIBUTION_KEYS):
        env.panic("Invalid " + where + ": expected keys " + ", ".join(CONTRIBUTION_KEYS))
    if not is_ss58(value["miner"]):
        env.panic("Invalid " + where + ".miner: expected an SS58 hotkey")
    if not is_hex(value["update_hash"], 64):
        env.panic("Invalid " + where + ".update_hash: expected 64 lowercase hex characters")
    if not is_cid(value["update_cid"]):
        env.panic("Invalid " + where + ".update_cid: expected an IPFS CID")
    if not is_hex(value["signature"], 128):
        env.panic("Invalid " + where + ".signature: expected 128 lowercase hex characters")
    _int(env, value["score_ppm"], where + ".score_ppm", 0, PPM)
    _int(env, value["epsilon_micro"], where + ".epsilon_micro", 0, MAX_MICRO)
    return {key: value[key] for key in CONTRIBUTION_KEYS}


def _assert_owner(env, cfg):
    if env.predecessor() != cfg["owner"]:
        env.panic("Only the owner can do this")


def init(env, owner):
    """Private initialiser: only the contract account itself may call it, once."""
    if env.predecessor() != env.current_account():
        env.panic("Only the contract account can initialize")
    if env.read("cfg") is not None:
        env.panic("Already initialized")
    if not is_account_id(owner):
        env.panic("Invalid owner: expected an account id")
    cfg = {"owner": owner, "coordinators": []}
    env.write("cfg", json.dumps(cfg))
    return cfg


def get_config(env):
    return _config(env)


def add_coordinator(env, account):
    cfg = _config(env)
    _assert_owner(env, cfg)
    if not is_account_id(account):
        env.panic("Invalid account: expected an account id")
    if account not in cfg["coordinators"]:
        if len(cfg["coordinators"]) >= MAX_COORDINATORS:
            env.panic("Too many coordinators")
        cfg["coordinators"].append(account)
        env.write("cfg", json.dumps(cfg))
    return cfg


def remove_coordinator(env, account):
    cfg = _config(env)
    _assert_owner(env, cfg)
    if account in cfg["coordinators"]:
        cfg["coordinators"].remove(account)
        env.write("cfg", json.dumps(cfg))
    return cfg


def record_round(env, round, base_model, global_in, global_out, loss_before_micro,
                 loss_after_micro, central_epsilon_micro, contributions):  # fmt: skip
    """Record one finished round of the calling coordinator (owner or allow-listed)."""
    cfg = _config(env)
    caller = env.predecessor()
    if caller != cfg["owner"] and caller not in cfg["coordinators"]:
        env.panic("Unauthorized")
    _int(env, round, "round", 1, MAX_ROUND)
    if not isinstance(base_model, str) or not 0 < len(base_model) <= MAX_MODEL_LEN:
        env.panic("Invalid base_model: 1-200 characters")
    if not _only(base_model, MODEL_CHARS):
        env.panic("Invalid base_model: letters, digits and - _ . / : only")
    start = _adapter(env, global_in, "global_in")
    end = _adapter(env, global_out, "global_out")
    _int(env, loss_before_micro, "loss_before_micro", 0, MAX_MICRO)
    _int(env, loss_after_micro, "loss_after_micro", 0, MAX_MICRO)
    _int(env, central_epsilon_micro, "central_epsilon_micro", -1, MAX_MICRO)
    if not isinstance(contributions, list) or len(contributions) > MAX_CONTRIBUTIONS:
        env.panic("Invalid contributions: expected a list of at most " + str(MAX_CONTRIBUTIONS))
    last_raw = env.read("last:" + caller)
    if last_raw is not None:
        last = json.loads(last_raw)
        if round <= last["round"]:
            env.panic("Stale round: " + str(round) + " <= " + str(last["round"]))
        if start["hash"] != last["global_hash"]:
            env.panic("global_in does not continue round " + str(last["round"]) + "'s global_out")
    entries = []
    miners = []
    hashes = []
    for index in range(len(contributions)):
        entry = _contribution(env, contributions[index], index)
        if entry["miner"] in miners:
            env.panic("Duplicate miner in contributions: " + entry["miner"])
        if entry["update_hash"] in hashes:
            env.panic("Duplicate update_hash in contributions: " + entry["update_hash"])
        seen = env.read("u:" + entry["update_hash"])
        if seen is not None:
            first = json.loads(seen)
            env.panic("update_hash " + entry["update_hash"] + " was recorded in round "
                      + str(first["round"]) + " for " + first["miner"])  # fmt: skip
        miners.append(entry["miner"])
        hashes.append(entry["update_hash"])
        entries.append(entry)
    record = {
        "coordinator": caller, "round": round, "base_model": base_model,
        "global_in": start, "global_out": end, "loss_before_micro": loss_before_micro,
        "loss_after_micro": loss_after_micro, "central_epsilon_micro": central_epsilon_micro,
        "contributions": entries, "recorded_at": env.block_timestamp(),
    }  # fmt: skip
    env.write("r:" + caller + ":" + str(round), json.dumps(record))
    env.write("last:" + caller, json.dumps({"round": round, "global_hash": end["hash"]}))
    for entry in entries:
        where = {"coordinator": caller, "round": round, "miner": entry["miner"]}
        env.write("u:" + entry["update_hash"], json.dumps(where))
        raw = env.read("m:" + entry["miner"])
        totals = json.loads(raw) if raw is not None else {"rounds": 0, "score_ppm_total": 0}
        totals["rounds"] += 1
        totals["score_ppm_total"] += entry["score_ppm"]
        totals["last_round"] = round
        totals["last_coordinator"] = caller
        env.write("m:" + entry["miner"], json.dumps(totals))
    env.log("record_round " + caller + " round " + str(round) + " with "
            + str(len(entries)) + " contributions")  # fmt: skip
    return {"round": round, "recorded": len(entries)}


def get_round(env, coordinator, round):
    if not is_account_id(coordinator):
        env.panic("Invalid coordinator: expected an account id")
    _int(env, round, "round", 1, MAX_ROUND)
    raw = env.read("r:" + coordinator + ":" + str(round))
    return None if raw is None else json.loads(raw)


def get_last(env, coordinator):
    if not is_account_id(coordinator):
        env.panic("Invalid coordinator: expected an account id")
    raw = env.read("last:" + coordinator)
    return None if raw is None else json.loads(raw)


def get_update(env, update_hash):
    if not is_hex(update_hash, 64):
        env.panic("Invalid update_hash: expected 64 lowercase hex characters")
    raw = env.read("u:" + update_hash)
    return None if raw is None else json.loads(raw)


def get_miner(env, miner):
    if not is_ss58(miner):
        env.panic("Invalid miner: expected an SS58 hotkey")
    raw = env.read("m:" + miner)
    return None if raw is None else json.loads(raw)


METHODS = {
    "init": (init, ("owner",), ()),
    "get_config": (get_config, (), ()),
    "add_coordinator": (add_coordinator, ("account",), ()),
    "remove_coordinator": (remove_coordinator, ("account",), ()),
    "record_round": (
        record_round,
        (
            "round",
            "base_model",
            "global_in",
            "global_out",
            "loss_before_micro",
            "loss_after_micro",
            "central_epsilon_micro",
            "contributions",
        ),
        (),
    ),
    "get_round": (get_round, ("coordinator", "round"), ()),
    "get_last": (get_last, ("coordinator",), ()),
    "get_update": (get_update, ("update_hash",), ()),
    "get_miner": (get_miner, ("miner",), ()),
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
