"""Does the validator pay for capability? Grades many rounds with the validator's own code, then
runs the resulting weights through Yuma on the embedded chain. Prints figures; asserts nothing.

Run: .venv/bin/python benchmarks/bench_incentive.py [--rounds 200] [--epochs 6] [--workers 2]

Miners (one uid each, one coldkey each unless said):
  ladder      deep > search > reference (the shipped floor)
  dishonest   constant, random, refuse, answer-key (imports the validator's modules and looks
              answers up), heuristic (structural, no model, no sandbox), copier (the
              reference's answers with cosmetic changes)
  sybils      scenario B only: two more hotkeys running `search` under the search miner's
              coldkey (K=3 hotkeys of one engine)

For every round: a fresh seed, every miner answers its private instances and the shared ones
in-process (latency measured), the validator's scorers grade them (sandbox for code), the
reference engine answers its own sample (the floor), duplicates are grouped and rewards
computed with the validator's defaults. A second validator with other seeds grades the same
miners for the agreement figure (Spearman of the two validators' moving averages).
Then each scenario replays its rewards into moving averages, sets sharpened weights on a sim
chain every epoch and reads Yuma's incentive.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import pickle
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

LADDER = ("deep", "search", "reference")
DISHONEST = ("copier", "answer-key", "heuristic", "constant", "random", "refuse")
MINERS = LADDER + DISHONEST  # scenario A, uids 1.. in this order
SYBILS = ("search#2", "search#3")  # scenario B adds these (same coldkey as "search")
TASKS = ("evaluate_pattern", "generate_pattern", "inference")
DEADLINE_S = 12.0
ALPHA = 0.1


def _engines() -> dict[str, object]:
    from adversaries import AnswerKeyEngine, HeuristicEngine

    from mycel_subnet.engines.demo import ConstantEngine, CopierEngine, RandomEngine, RefuseEngine
    from mycel_subnet.engines.solver import DEEP, REFERENCE, SEARCH, SolverEngine

    search = SolverEngine(SEARCH)
    return {
        "deep": SolverEngine(DEEP), "search": search, "reference": SolverEngine(REFERENCE),
        "copier": CopierEngine(SolverEngine(REFERENCE), delay_s=0.0),
        "answer-key": AnswerKeyEngine(), "heuristic": HeuristicEngine(),
        "constant": ConstantEngine(), "random": RandomEngine(seed=7), "refuse": RefuseEngine(),
        "search#2": search, "search#3": search,
    }  # fmt: skip


def _seed(validator: str, index: int) -> str:
    return hashlib.sha256(f"bench-incentive|{validator}|{index}".encode()).hexdigest()[:32]


def _grade_rounds(job: tuple[str, list[int], tuple[str, ...]]) -> list[dict]:
    """Worker: grade rounds `indices` of `validator` for `names`; one dict per round."""
    import os

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import logging

    from mycel_subnet.validator.challenges import Grade, SandboxChecker, build_round
    from mycel_subnet.validator.challenges.checker import BudgetedChecker, GradingBudgetExceeded
    from mycel_subnet.validator.reference import ReferenceBaseline, answer_with

    logging.disable(logging.WARNING)  # refusals and engine failures are expected here
    validator, indices, names = job
    engines = _engines()
    checker = SandboxChecker()
    floor = ReferenceBaseline()
    out = []
    for index in indices:
        round_ = build_round(_seed(validator, index))
        reference = floor.measure(round_.reference_sample(), checker, DEADLINE_S)
        rows = []
        for uid, name in enumerate(names, start=1):
            budget = BudgetedChecker(checker)
            for position, challenge in enumerate(round_.for_miner(uid)):
                results, seconds = answer_with(engines[name], challenge)
                try:
                    grade = challenge.grade(results, budget)
                except GradingBudgetExceeded as error:
                    grade = Grade(0.0, str(error))
                rows.append({
                    "uid": uid, "task": challenge.task, "tier": challenge.tier,
                    "accuracy": grade.accuracy, "latency_s": seconds, "detail": grade.detail,
                    "shared": f"{challenge.task}:{position}" if challenge.shared else None,
                    "fingerprint": grade.fingerprint,
                })  # fmt: skip
        out.append({"index": index, "reference": reference, "rows": rows})
    return out


def _round_results(round_data: dict, uids: set[int]) -> list:
    from mycel_subnet.validator.scoring import TaskResult

    return [
        TaskResult(
            uid=r["uid"],
            task=r["task"],
            accuracy=r["accuracy"],
            latency_s=r["latency_s"],
            tier=r["tier"],
            shared_key=r["shared"],
            fingerprint=r["fingerprint"],
        )
        for r in round_data["rows"]
        if r["uid"] in uids
    ]


def _scores(data: list[dict], uids: set[int]) -> tuple[list[dict[int, float]], list[list[set]]]:
    """The validator's scores after each round (moving averages of the task values, turned
    into rewards relative to that round's floor), and each round's duplicate groups."""
    from mycel_subnet.validator.duplicates import duplicate_groups
    from mycel_subnet.validator.scoring import RewardPolicy, score_from_values, step_values

    averaged: dict[int, dict[str, float]] = {}
    history, all_groups = [], []
    for round_data in data:
        results = _round_results(round_data, uids)
        groups = duplicate_groups(results)
        values = step_values(results, sorted(uids), DEADLINE_S, TASKS, groups)
        for uid, vals in values.items():
            old = averaged.setdefault(uid, {})
            for task, value in vals.items():
                old[task] = ALPHA * value + (1 - ALPHA) * old.get(task, 0.0)
        floor = round_data["reference"]
        history.append(
            {uid: score_from_values(v, floor, RewardPolicy()) for uid, v in averaged.items()}
        )
        all_groups.append(groups)
    return history, all_groups


def _grade_all(validator: str, rounds: int, names: tuple[str, ...], workers: int) -> list[dict]:
    chunks = [list(range(rounds))[w::workers] for w in range(workers)]
    jobs = [(validator, chunk, names) for chunk in chunks if chunk]
    if workers == 1:
        parts = [_grade_rounds(job) for job in jobs]
    else:
        with ProcessPoolExecutor(workers) as pool:
            parts = list(pool.map(_grade_rounds, jobs))
    return sorted((r for part in parts for r in part), key=lambda r: r["index"])


def _spearman(a: dict[int, float], b: dict[int, float]) -> float:
    keys = sorted(a)

    def ranks(values: list[float]) -> list[float]:
        order = sorted(range(len(values)), key=lambda i: values[i])
        out = [0.0] * len(values)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
                j += 1
            for k in range(i, j + 1):
                out[order[k]] = (i + j) / 2
            i = j + 1
        return out

    ra, rb = ranks([a[k] for k in keys]), ranks([b[k] for k in keys])
    ma, mb = statistics.mean(ra), statistics.mean(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    var = (sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb)) ** 0.5
    return cov / var if var else 0.0


def _chain_incentives(
    names: dict[int, str], coldkey_of: dict[int, str], history: list[dict[int, float]], epochs: int
) -> dict[int, float]:
    """Replay moving averages into weights on a sim chain; mean incentive per uid over epochs."""
    from mycel_subnet.chain.port import ChainPort
    from mycel_subnet.chain.sim import admin
    from mycel_subnet.chain.sim.params import GenesisConfig
    from mycel_subnet.chain.wallets import create_wallet
    from mycel_subnet.validator.weights import WeightPolicy, normalised_weights, shaped_scores

    tempo = 20
    tmp = Path(tempfile.mkdtemp(prefix="bench-incentive-"))
    path = tmp / "chain.sqlite"
    genesis = GenesisConfig(manual=True, hparams={
        "tempo": tempo, "weights_rate_limit": 1, "serving_rate_limit": 0,
        "immunity_period": 1000 * tempo, "min_allowed_weights": 1,
        "activity_cutoff": 1000 * tempo, "max_validators": 4,
    })  # fmt: skip
    admin.create_chain(path, genesis)
    wallets = tmp / "wallets"
    owner = create_wallet("owner", "default", wallets, devnet=True)
    netuid = admin.create_subnet(path, owner)
    network = f"sim:{path}"
    validator = create_wallet("validator", "default", wallets, devnet=True)
    admin.fund(path, validator.coldkeypub.ss58_address, 2_000)
    port = ChainPort(network, netuid, validator)
    port.register()
    port.add_stake(1_000)
    uid_of: dict[int, int] = {}
    for bench_uid in sorted(names):
        wallet = create_wallet(coldkey_of[bench_uid], f"h{bench_uid}", wallets, devnet=True)
        admin.fund(path, wallet.coldkeypub.ss58_address, 10)
        miner = ChainPort(network, netuid, wallet)
        miner.register()
        uid_of[bench_uid] = miner.my_uid()
        miner.close()
    admin.advance_blocks(path, tempo + 1)
    admin.run_pending_epochs(path)  # the validator's permit
    per_epoch = max(1, len(history) // epochs)
    totals: dict[int, list[float]] = defaultdict(list)
    policy = WeightPolicy()
    for epoch in range(epochs):
        scores = history[min(len(history) - 1, (epoch + 1) * per_epoch - 1)]
        shaped = shaped_scores({uid_of[u]: s for u, s in scores.items()}, policy)
        graph = port.metagraph()
        me = graph.by_hotkey(validator.hotkey.ss58_address)
        uids, weights = normalised_weights(shaped, graph, {me.uid}, 1)
        result = port.set_weights(uids, weights, 0)
        if not result.ok:
            raise RuntimeError(f"set_weights failed: {result.message}")
        admin.advance_blocks(path, tempo)
        admin.run_pending_epochs(path)
        incentive = {n.uid: n.incentive for n in port.metagraph().neurons}
        for bench_uid, chain_uid in uid_of.items():
            totals[bench_uid].append(incentive.get(chain_uid, 0.0))
    port.close()
    return {uid: statistics.mean(values) for uid, values in totals.items()}


def _table(data: list[dict], names: dict[int, str], history: list[dict[int, float]]) -> None:
    acc: dict[tuple[int, str], list[float]] = defaultdict(list)
    for round_data in data:
        for row in round_data["rows"]:
            if row["uid"] in names:
                acc[(row["uid"], row["task"])].append(row["accuracy"])
    print(f"{'engine':11s} " + " ".join(f"{t[:8]:>9s}" for t in TASKS) + "   mean acc  score")
    settled = history[len(history) // 2 :]  # after the moving averages have warmed up
    for uid, name in names.items():
        means = [statistics.mean(acc[(uid, t)]) if acc[(uid, t)] else 0.0 for t in TASKS]
        reward = statistics.mean(r.get(uid, 0.0) for r in settled)
        print(f"{name:11s} " + " ".join(f"{m:9.3f}" for m in means)
              + f"   {statistics.mean(means):8.3f}  {reward:11.4f}")  # fmt: skip
    floors = [statistics.mean(d["reference"][t] for d in data) for t in TASKS]
    print("floor (reference task values, validator's moving average): "
          + ", ".join(f"{t[:8]} {f:.3f}" for t, f in zip(TASKS, floors, strict=True)))  # fmt: skip


def main() -> None:
    import logging

    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--agreement-rounds", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--save", help="write the graded rounds to this pickle file")
    parser.add_argument("--load", help="score graded rounds from --save instead of grading")
    args = parser.parse_args()

    started = time.monotonic()
    names_a = dict(enumerate(MINERS, start=1))
    names_b = dict(enumerate(MINERS + SYBILS, start=1))
    if args.load:
        with open(args.load, "rb") as handle:
            data, other = pickle.load(handle)
    else:
        data = _grade_all("A", args.rounds, MINERS + SYBILS, args.workers)
        other = _grade_all("B", args.agreement_rounds, MINERS, args.workers)
    if args.save:
        with open(args.save, "wb") as handle:
            pickle.dump((data, other), handle)
    graded = time.monotonic()
    history_a, groups_a = _scores(data, set(names_a))
    history_b, groups_b = _scores(data, set(names_b))
    print(f"graded {len(data)} + {len(other)} rounds x {len(names_b)} miners in "
          f"{graded - started:.0f} s\n")  # fmt: skip
    print("scenario A (ladder and dishonest engines, one hotkey each):")
    _table(data, names_a, history_a)
    print("duplicate groups in scenario A (rounds in which each engine shared its reward):")
    for uid, name in names_a.items():
        shared = [g for groups in groups_a for g in groups if uid in g]
        partners = sorted({names_a[u] for g in shared for u in g} - {name})
        print(f"  {name:11s} {len(shared):4d}/{len(groups_a)}  with {', '.join(partners) or '-'}")
    sybil_uids = {uid for uid, n in names_b.items() if n.startswith("search")}
    grouped = sum(any(sybil_uids <= g for g in groups) for groups in groups_b)
    print(f"\nscenario B: K=3 search hotkeys under one coldkey grouped as duplicates in "
          f"{grouped}/{len(groups_b)} rounds")  # fmt: skip

    n = min(len(other), len(data))
    ema_a = _scores(data[:n], set(names_a))[0][-1]
    ema_b = _scores(other[:n], set(names_a))[0][-1]
    print(f"validator agreement: Spearman of the two validators' scores after {n} rounds "
          f"with different seeds = {_spearman(ema_a, ema_b):.3f}")  # fmt: skip

    coldkeys_a = {uid: f"ck{uid}" for uid in names_a}
    coldkeys_b = {uid: ("ck2" if n.startswith("search") else f"ck{uid}")
                  for uid, n in names_b.items()}  # fmt: skip
    inc_a = _chain_incentives(names_a, coldkeys_a, history_a, args.epochs)
    inc_b = _chain_incentives(names_b, coldkeys_b, history_b, args.epochs)
    by_name = {names_a[u]: v for u, v in inc_a.items()}
    print(f"\nYuma on the sim chain over {args.epochs} epochs (mean incentive):")
    for name, value in sorted(by_name.items(), key=lambda kv: -kv[1]):
        print(f"  {name:11s} {value:.4f}")
    best = max(by_name[n] for n in LADDER)

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.1f}x" if b > 0 else "inf (the other earns 0)"

    print("\nratios (targets in brackets):")
    for name in ("constant", "random", "refuse", "answer-key"):
        print(f"  best honest / {name:10s} {ratio(best, by_name[name]):>22s}   [>= 10x]")
    print(f"  best honest / heuristic  {ratio(best, by_name['heuristic']):>22s}   [>= 2x]")
    print(f"  copier / reference       {ratio(by_name['copier'], by_name['reference']):>22s}   "
          "[<= 1.0x]")  # fmt: skip
    group = sum(v for u, v in inc_b.items() if names_b[u].startswith("search"))
    print(f"  K=3 sybils / one search  {ratio(group, by_name['search']):>22s}   [<= 1.1x]")
    for upper, lower in itertools.pairwise(LADDER):
        print(f"  {upper:9s} / {lower:9s}   {ratio(by_name[upper], by_name[lower]):>22s}   "
              "[>= 1.3x]")  # fmt: skip
    print(f"\ntotal {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
