"""The supervisor files in deploy/ and docker-compose.yml start valid neurons: each command line
goes through the real mycel-miner / mycel-validator parser and settings validation (the same
path the process takes before it touches a wallet or the chain), and the limits that keep a
node healthy (open files, stop timeouts longer than a step or a drain) are where they belong.
Docker, pm2 and systemd themselves are not run here."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from mycel_subnet.cli.flags import settings_flags_from
from mycel_subnet.config import MycelSettings, load_settings
from mycel_subnet.miner.run import GRACEFUL_SHUTDOWN_S
from mycel_subnet.ops import autoupdate
from neurons import miner, validator

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PARSERS = {"mycel-miner": miner.build_parser, "mycel-validator": validator.build_parser}
PLACEHOLDERS = {"<NETUID>": "7", "<PUBLIC_IP>": "203.0.113.7"}
COMPOSE_ENV = {"MYCEL_NETUID": "7", "MYCEL_PUBLIC_IP": "203.0.113.7"}
# A validator step: every query's deadline plus grading; the stop timeouts must exceed it.
MIN_VALIDATOR_STOP_S = 120


def neuron_settings(program: str, argv: list[str]) -> MycelSettings:
    """Parse argv as `program` would and validate the settings; fails the test on any error."""
    parser = PARSERS[Path(program).name]()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        pytest.fail(f"{program} refuses {shlex.join(argv)} (exit {exit_.code})")
    return load_settings(settings_flags_from(args), args.config)


def fill(text: str) -> str:
    for placeholder, value in PLACEHOLDERS.items():
        text = text.replace(placeholder, value)
    return text


# --- systemd -------------------------------------------------------------------------------


def unit_service(path: Path) -> dict[str, list[str]]:
    """The [Service] keys of a unit file (continuation lines joined, comments dropped)."""
    joined = re.sub(r"\\\n\s*", " ", path.read_text())
    section, values = "", {}
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service":
            key, _, value = line.partition("=")
            values.setdefault(key, []).append(value)
    return values


@pytest.mark.parametrize("name", ["mycel-miner", "mycel-validator"])
def test_systemd_units_start_valid_neurons(name: str) -> None:
    service = unit_service(DEPLOY / "systemd" / f"{name}.service")
    program, *argv = shlex.split(fill(service["ExecStart"][0]))
    assert Path(program).name == name
    settings = neuron_settings(program, argv)
    assert settings.subtensor.network == "finney" and settings.netuid == 7
    assert service["LimitNOFILE"] == ["65536"]
    assert service["KillSignal"] == ["SIGTERM"]
    stop_s = int(service["TimeoutStopSec"][0])
    assert stop_s > (GRACEFUL_SHUTDOWN_S if name == "mycel-miner" else MIN_VALIDATOR_STOP_S)
    assert set(service["RestartPreventExitStatus"][0].split()) == {"2", "3", "5"}
    assert not any("KEY" in v or "TOKEN" in v for v in service.get("Environment", []))


def test_systemd_autoupdate_unit_is_a_valid_updater_call() -> None:
    service = unit_service(DEPLOY / "systemd" / "mycel-autoupdate.service")
    script, *argv = shlex.split(service["ExecStart"][0])
    assert script.endswith("scripts/auto_update.sh")
    args = autoupdate.build_parser().parse_args(argv)
    assert "systemctl restart" in args.restart_cmd
    assert service["Type"] == ["oneshot"]
    timer = (DEPLOY / "systemd" / "mycel-autoupdate.timer").read_text()
    assert "OnUnitInactiveSec=" in timer


def test_docs_point_at_the_canonical_units() -> None:
    for doc in ("miner.md", "validator.md"):
        text = (ROOT / "docs" / doc).read_text()
        assert "deploy/systemd/" in text and "deploy/pm2/" in text, doc
    # The units live in deploy/ only: no second, drifting copy of ExecStart in the docs.
    assert "ExecStart=" not in (ROOT / "docs" / "miner.md").read_text()


# --- pm2 -----------------------------------------------------------------------------------


def pm2_apps(config: Path) -> list[dict]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the pm2 ecosystem file is JavaScript")
    script = f"console.log(JSON.stringify(require({json.dumps(str(config))}).apps))"
    done = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_pm2_ecosystem_starts_valid_neurons() -> None:
    apps = {app["name"]: app for app in pm2_apps(DEPLOY / "pm2" / "ecosystem.config.js")}
    assert set(apps) == {"mycel-miner", "mycel-validator"}
    for name, app in apps.items():
        assert app["interpreter"] == "none"
        assert Path(app["script"]) == ROOT / ".venv" / "bin" / name
        argv = [fill(a) for a in app["args"]]
        neuron_settings(name, argv)
        assert {0, 2, 3, 5} <= set(app["stop_exit_codes"])
    assert apps["mycel-miner"]["kill_timeout"] > GRACEFUL_SHUTDOWN_S * 1000
    assert apps["mycel-validator"]["kill_timeout"] > MIN_VALIDATOR_STOP_S * 1000


def test_pm2_autoupdate_is_separate_and_valid() -> None:
    (app,) = pm2_apps(DEPLOY / "pm2" / "autoupdate.config.js")
    assert Path(app["script"]) == ROOT / "scripts" / "auto_update.sh"
    args = autoupdate.build_parser().parse_args(app["args"])
    assert args.restart_cmd.startswith("pm2 restart")
    assert app["autorestart"] is False and app["cron_restart"]


# --- docker compose ------------------------------------------------------------------------

_VAR = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} forms."""

    def one(match: re.Match[str]) -> str:
        name, kind, arg = match.groups()
        if env.get(name):
            return env[name]
        if kind == "?":
            raise KeyError(f"{name}: {arg}")
        return arg if kind == "-" else ""

    return _VAR.sub(one, value)


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.mark.parametrize(("service", "program"), [("miner", "mycel-miner"),
                                                  ("validator", "mycel-validator")])  # fmt: skip
def test_compose_services_start_valid_neurons(service: str, program: str) -> None:
    spec = compose()["services"][service]
    command = [interpolate(str(part), COMPOSE_ENV) for part in spec["command"]]
    assert command[0] == program
    settings = neuron_settings(program, command[1:])
    assert settings.netuid == 7 and str(settings.wallet.path) == "/run/mycel/wallets"
    assert spec["ulimits"]["nofile"] == {"soft": 65536, "hard": 65536}
    assert spec["init"] is True and spec["healthcheck"]["test"][0] == "CMD"
    wallets = [v for v in spec["volumes"] if v.endswith(":/wallets:ro")]
    assert wallets, "wallets must be mounted read-only"
    grace = int(spec["stop_grace_period"].removesuffix("s"))
    assert grace > (GRACEFUL_SHUTDOWN_S if service == "miner" else MIN_VALIDATOR_STOP_S)


def test_compose_requires_an_explicit_netuid_and_keeps_kubo_optional() -> None:
    spec = compose()
    with pytest.raises(KeyError, match="MYCEL_NETUID"):
        [interpolate(str(p), {}) for p in spec["services"]["validator"]["command"]]
    assert spec["services"]["kubo"]["profiles"] == ["ipfs"]
    assert "profiles" not in spec["services"]["miner"]


def test_image_bakes_in_no_secrets() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert not re.search(r"(?im)^\s*(ENV|ARG)\b.*(KEY|TOKEN|SECRET|MNEMONIC|PASSWORD)", dockerfile)
    assert not re.search(r"(?im)^\s*COPY\b.*(wallet|\.env|\.bittensor)", dockerfile)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"**/wallets", "**/.bittensor", ".git", ".venv"} <= set(ignored)


def test_entrypoint_links_the_hotkey_but_never_the_coldkey(tmp_path: Path) -> None:
    """The container's wallet view: the real SDK loads the hotkey through it, and the neuron's
    lock file can be created there although the wallets themselves are read-only."""
    from mycel_subnet.chain.wallets import create_wallet
    from mycel_subnet.neuron_lock import miner_lock

    source, view = tmp_path / "ro", tmp_path / "view"
    wallet = create_wallet("miner", "default", source, devnet=True)
    (source / "miner" / "coldkey").write_text("secret")  # as if a full wallet were mounted
    done = subprocess.run(
        ["bash", str(DEPLOY / "docker" / "entrypoint.sh"), "true"],
        env={"PATH": "/usr/bin:/bin", "MYCEL_WALLETS_RO": str(source),
             "MYCEL_WALLETS_VIEW": str(view)},
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    linked = view / "miner"
    assert (linked / "hotkeys").is_symlink() and not (linked / "coldkey").exists()
    import bittensor as bt

    seen = bt.Wallet("miner", "default", str(view)).hotkey.ss58_address
    assert seen == wallet.hotkey.ss58_address
    with miner_lock(linked, seen):
        assert (linked / f".miner-{seen}.lock").exists()
    assert not list((source / "miner").glob(".miner-*.lock"))
