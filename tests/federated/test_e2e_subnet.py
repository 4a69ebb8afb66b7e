"""Federated learning end to end on the embedded chain, as `mycel fl run` runs it: miners are
separate `neurons.miner` processes, each with its own private shard, privacy ledger and the
shared embedded content store; the coordinator holds the validator's hotkey and records every
round on the local NEAR ledger. Two honest miners, one sending noise, one copying an honest
miner's update (scaled). Nothing is faked.

Done when (issue #16): two rounds complete, held-out loss after aggregation is below the start,
the noise miner scores below every honest contributor, the copy is detected, the NEAR record
lists exactly the accepted update hashes, and each miner's epsilon is Opacus's for the
sampling rate actually used.
"""

from __future__ import annotations

import json
import socket

import pytest
from opacus.accountants import RDPAccountant
from rich.console import Console

from mycel_subnet.flnet.plan import FlPlan
from mycel_subnet.flnet.run import run_fl


def _free_base(count: int) -> int:
    for base in range(21000, 60000, 97):
        try:
            for port in range(base, base + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError("no free port range")


@pytest.fixture(scope="module")
def fl_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("fl-e2e")
    plan = FlPlan(honest=2, noise=1, copy=1, rounds=2, base_port=_free_base(4), out_dir=out)
    code, run = run_fl(plan, Console(file=open(out / "console.txt", "w")))  # noqa: SIM115
    return code, run, out


def test_two_rounds_complete_and_held_out_loss_falls(fl_run) -> None:
    code, run, out = fl_run
    assert code == 0, (out / "console.txt").read_text()
    assert [r.round for r in run.rounds] == [1, 2]
    assert run.rounds[0].loss_after < run.initial_loss
    assert run.rounds[-1].loss_after <= run.rounds[0].loss_after  # equal only if none accepted
    report = json.loads((out / "fl_report.json").read_text())
    assert report["final_loss"] < report["initial_loss"]
    assert (out / "fl.png").stat().st_size > 10_000
    assert len(list((out / "logs").glob("miner*.log"))) == 4  # one process per miner


def test_noise_scores_below_every_honest_contributor_and_the_copy_is_caught(fl_run) -> None:
    _, run, _ = fl_run
    by_name = {b: [u for u, x in run.behaviour.items() if x == b] for b in ("honest", "noise")}
    (noise,) = by_name["noise"]
    (copier,) = [u for u, b in run.behaviour.items() if b == "copy"]
    for report in run.rounds:
        honest = [report.rows[u] for u in by_name["honest"] if report.rows[u].status == "accepted"]
        assert honest, report.rows
        assert all(report.rows[noise].value < row.value for row in honest)
        assert report.rows[noise].status == "no_gain"
        copy = report.rows[copier]
        assert copy.status == "copy" and copy.value == 0.0
        assert copy.detail.startswith(f"copy of uid {by_name['honest'][0]} ")


def test_near_records_exactly_the_accepted_update_hashes(fl_run) -> None:
    _, run, _ = fl_run
    for report, record in zip(run.rounds, run.near, strict=True):
        assert record is not None
        hashes = [c["update_hash"] for c in record["contributions"]]
        assert hashes == [r.update_sha256 for r in report.accepted()]
        assert record["global_in"] == report.global_in
        assert record["global_out"] == report.global_out
    assert run.near[1]["global_in"] == run.near[0]["global_out"]  # the adapters' hash chain


def test_each_miner_epsilon_is_opacus_for_the_sampling_rate_used(fl_run) -> None:
    """512 private texts at an expected batch of 64: Opacus samples at 1/8, 10 steps a round."""
    _, run, out = fl_run
    plan = run.plan
    rate = 1 / -(-plan.examples // plan.batch_size)
    for index, uid in enumerate(sorted(run.behaviour)):
        if run.behaviour[uid] != "honest":
            continue
        state = json.loads((out / "miners" / f"miner{index}" / "fl" / "fl_state.json").read_text())
        assert state["history"] == [[plan.noise_multiplier, rate, 2 * plan.local_steps]]
        for rounds, report in enumerate(run.rounds, start=1):
            opacus = RDPAccountant()
            opacus.history = [(plan.noise_multiplier, rate, rounds * plan.local_steps)]
            row = report.rows[uid]
            assert row.sample_rate == rate
            assert row.epsilon == pytest.approx(opacus.get_epsilon(delta=1e-5), rel=1e-12)
