"""The devnet's pieces that make step 1 clean and the report explain itself: reading a real
miner's own metagraph view from its /metrics, failure notes and per-step points from a step
log, errors on stderr."""

from __future__ import annotations

import socket

import bittensor as bt
import pytest

from mycel_subnet.cli.main import main
from mycel_subnet.devnet import validator_state
from mycel_subnet.devnet.miner_views import metagraph_block, wait_for_views
from mycel_subnet.devnet.report import DevnetReport, render_reasons
from mycel_subnet.engines.pattern_engine import PatternEngine
from mycel_subnet.engines.solver import REFERENCE, SolverEngine
from mycel_subnet.validator.steplog import StepLog
from tests.validator.servers import free_socket, miner_app, serve


@pytest.fixture(scope="module")
def miner_port(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("views")
    wallet = bt.Wallet("miner", "hot", str(tmp))
    wallet.create_new_hotkey(use_password=False, suppress=True, overwrite=True)
    engine = SolverEngine(REFERENCE, PatternEngine(None, None, use_presidio=False))
    with serve(miner_app(wallet, engine, wallet.hotkey.ss58_address)) as port:
        yield port  # its metagraph is a fixed snapshot at block 1


def test_the_miners_own_view_is_read_from_its_metrics(miner_port):
    assert metagraph_block(miner_port) == 1
    closed = free_socket()
    port = closed.getsockname()[1]
    closed.close()
    assert metagraph_block(port) is None


def test_waiting_for_views_returns_the_miners_still_behind(miner_port):
    assert wait_for_views([miner_port], 1, timeout_s=5) == []
    assert wait_for_views([miner_port], 2, timeout_s=0.5, poll_s=0.1) == [miner_port]


def test_wait_for_views_runs_the_check_so_a_dead_child_stops_it(miner_port):
    def dead():
        raise RuntimeError("miner0 exited early")

    with pytest.raises(RuntimeError, match="exited early"):
        wait_for_views([miner_port], 99, timeout_s=30, check=dead)


REFUSAL = "http_error: HTTP 403 no_validator_permit: uid 0 has no validator permit"


def _entry(task, accuracy, errors=()):
    return {"task": task, "accuracy": accuracy, "detail": "d", "errors": list(errors)}


def test_every_failure_gets_a_note_and_every_step_a_point(tmp_path):
    log = StepLog(tmp_path)
    log.append({"step": 1, "block": 5, "rewards": {"1": 0.5, "2": 0.0},
                "scores": {"1": 0.2, "2": 0.0},
                "weights": {"ok": False, "status": "failed", "message": "chain said no"},
                "tasks": {"1": [_entry("inference", 1.0)],
                          "2": [_entry("inference", 0.0, [REFUSAL])]}})  # fmt: skip
    log.append(
        {
            "step": 2,
            "block": 7,
            "rewards": {"1": 0.7},
            "scores": {"1": 0.3},
            "weights": {"ok": False, "status": "not_due", "message": "rate limit"},
            "tasks": {"1": [_entry("inference", 0.5, ["timeout: no answer within 8 s"])]},
        }
    )
    notes = validator_state.failure_notes(tmp_path)
    assert notes == [
        "uid 1: 1 challenge(s) with failed queries (timeout)",
        "uid 2: 1 challenge(s) with failed queries (http_error 403 no_validator_permit)",
        "weights not set 1 time(s): failed: chain said no",
    ]
    points = validator_state.step_points(tmp_path)
    assert [(p.step, p.rewards.get(1)) for p in points] == [(1, 0.5), (2, 0.7)]
    assert points[0].accuracy == {1: {"inference": 1.0}, 2: {"inference": 0.0}}
    report = DevnetReport(chain_path="c", netuid=1, notes=notes)
    assert "uid 2: 1 challenge(s) with failed queries" in render_reasons(report)
    assert "notes: none" in render_reasons(DevnetReport(chain_path="c", netuid=1))


def test_devnet_errors_go_to_stderr_as_one_line(tmp_path, capsys):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        code = main(["devnet", "--miners", "1", "--engines", "baseline", "--base-port",
                     str(taken), "--out", str(tmp_path / "out")])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 4
    assert captured.out == ""
    assert captured.err.strip().startswith("mycel devnet: port(s)")
    assert "\n" not in captured.err.strip()
