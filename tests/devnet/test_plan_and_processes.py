"""The devnet's plan (flags -> what will run), its preflight and its process supervision.

Real processes and real sockets: a child that ignores SIGTERM must still be gone after stop_all,
and a taken port must stop the devnet before anything starts.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from mycel_subnet.cli.main import main
from mycel_subnet.devnet.plan import DEFAULT_ENGINES, DevnetPlan
from mycel_subnet.devnet.processes import ProcessGroup, port_is_free, wait_for_port
from mycel_subnet.devnet.run import DevnetError, preflight
from mycel_subnet.exit_codes import ExitCode


def test_engines_cycle_over_the_default_mix_and_ports_follow_the_base():
    plan = DevnetPlan(miners=8, base_port=20000)
    assert plan.miner_engines[:6] == list(DEFAULT_ENGINES)
    assert plan.miner_engines[6:] == list(DEFAULT_ENGINES[:2])
    assert plan.miner_ports == list(range(20000, 20008))
    assert DevnetPlan(miners=3, engines=("baseline", "random")).miner_engines == [
        "baseline",
        "random",
        "baseline",
    ]


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"miners": 0}, "--miners"),
        ({"epochs": 0}, "--epochs"),
        ({"block_time_s": 0.0}, "--block-time"),
        ({"tempo": 2}, "--tempo"),
        ({"base_port": 80}, "--base-port"),
        ({"engines": ("honest", "baseline")}, "unknown engine"),
    ],
)
def test_bad_plan_names_the_flag(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        DevnetPlan(**kwargs)


def test_cli_bad_flag_is_a_one_line_usage_error(capsys):
    code = main(["devnet", "--miners", "0"])
    assert code == ExitCode.USAGE
    err = capsys.readouterr().err.strip()
    assert "--miners" in err and "\n" not in err


def test_a_taken_port_stops_the_devnet_before_anything_starts(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        plan = DevnetPlan(miners=1, base_port=taken, engines=("baseline",), out_dir=tmp_path)
        with pytest.raises(DevnetError, match=f"port\\(s\\) {taken} already in use") as caught:
            preflight(plan)
        assert caught.value.code == ExitCode.UNAVAILABLE
    assert not list(tmp_path.iterdir()), "preflight must not create anything"


def test_stop_all_leaves_no_process_even_one_that_ignores_sigterm(tmp_path):
    group = ProcessGroup(log_dir=tmp_path / "logs")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = (
        "import socket, signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"s = socket.socket(); s.bind(('127.0.0.1', {port})); s.listen()\n"
        "import subprocess, sys\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        "time.sleep(600)\n"
    )
    child = group.start("stubborn", [sys.executable, "-c", server])
    assert wait_for_port(port, 20.0)
    started = time.monotonic()
    group.stop_all(grace_s=1.0)
    assert time.monotonic() - started < 10
    assert not child.alive
    assert port_is_free(port)
    # the grandchild shared the child's process group and was killed with it (zombies waiting
    # for init to reap them do not count: they hold no port and run nothing)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        listing = subprocess.run(
            ["ps", "-o", "stat=", "-g", str(child.process.pid)], capture_output=True, text=True
        )
        running = [s for s in listing.stdout.split() if not s.startswith("Z")]
        if not running:
            break
        time.sleep(0.1)
    assert running == []


def test_a_missing_dependency_stops_the_devnet_with_the_setup_command(tmp_path, monkeypatch):
    import mycel_subnet.devnet.run as devnet_run

    monkeypatch.setattr(
        devnet_run, "REQUIRED_MODULES", (*devnet_run.REQUIRED_MODULES, "no_such_mod_xyz")
    )
    plan = DevnetPlan(miners=1, engines=("baseline",), out_dir=tmp_path, base_port=21000)
    with pytest.raises(DevnetError, match="missing dependencies: no_such_mod_xyz") as caught:
        preflight(plan)
    assert caught.value.code == ExitCode.UNAVAILABLE
    assert "scripts/setup.sh" in str(caught.value)
