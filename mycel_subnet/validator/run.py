"""Start a validator: check the wallet, take the lock, check the chain, then loop until a signal.

Every refusal is one clear line and an exit code (mycel_subnet.exit_codes): 2 bad
configuration or wallet, 3 hotkey not registered, 4 chain, metrics or gateway port unavailable,
5 another validator already runs with this hotkey. With --gateway.enabled the organic gateway
(mycel_subnet.gateway) serves in the same event loop and stops with the validator.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
from pathlib import Path
from typing import Any

from mycel_subnet.chain.port import ChainPort
from mycel_subnet.config import MycelSettings
from mycel_subnet.exit_codes import ExitCode
from mycel_subnet.neuron_startup import StartupError, open_hotkey_wallet, registered_neuron
from mycel_subnet.validator.lock import AlreadyRunning, validator_lock
from mycel_subnet.validator.loop import Validator, ValidatorConfig
from mycel_subnet.validator.metrics import ValidatorMetrics
from mycel_subnet.validator.near_side import build_near_side
from mycel_subnet.validator.scoring import RewardPolicy
from mycel_subnet.validator.search_task import build_search_task
from mycel_subnet.validator.spec import spec_version
from mycel_subnet.validator.wandb_log import WandbLogger
from mycel_subnet.validator.weights import WeightPolicy

log = logging.getLogger("mycel.validator")


class ValidatorStartupError(StartupError):
    """The validator cannot start; ``code`` is the exit code."""


def check_chain(chain: ChainPort, settings: MycelSettings, hotkey: str) -> None:
    _graph, me = registered_neuron(chain, settings, hotkey)
    if not me.validator_permit:
        hint = ""
        if chain.spec.is_sim:
            from mycel_subnet.chain.sim.hints import stake_hint

            w = settings.wallet
            hint = "; stake with " + stake_hint(
                chain.spec.sim_path, chain.netuid, w.name, w.hotkey, w.path
            )
        log.warning(
            "uid %d has no validator permit yet (stake %.4g): it will score miners but cannot "
            "set weights until an epoch grants a permit%s",
            me.uid,
            me.stake,
            hint,
        )
    log.info("validator uid %d on netuid %d (%s)", me.uid, chain.netuid, chain.spec.value)


def build_gateway_for(validator: Validator, settings: MycelSettings, wallet: Any) -> Any:
    """The organic gateway over this validator's last metagraph and scores (read only), or None
    when it is not enabled (docs/gateway.md)."""
    if not settings.gateway.enabled:
        return None
    from mycel_subnet.gateway.runtime import build_gateway, registry_view, scores_by_hotkey

    vs = settings.validator
    try:
        return build_gateway(
            settings.gateway, wallet=wallet, graph=lambda: validator.graph,
            scores=scores_by_hotkey(validator.store), state_dir=Path(vs.state_dir).expanduser(),
            registry=registry_view(settings.near), timeout_s=vs.timeout_s,
            max_response_bytes=vs.max_response_bytes,
        )  # fmt: skip
    except (OSError, sqlite3.Error) as error:  # the keys file or the local ledger
        raise ValidatorStartupError(ExitCode.UNAVAILABLE, f"gateway: {error}") from None


async def _serve(validator: Validator, gateway: Any = None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if gateway is not None:
        from mycel_subnet.gateway.server import GatewayStartError

        try:
            await gateway.start()
        except GatewayStartError as error:
            await gateway.stop()
            raise ValidatorStartupError(ExitCode.UNAVAILABLE, str(error)) from None
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await validator.run(stop)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        if gateway is not None:
            await gateway.stop()
    log.info("validator stopped")


def _federated(settings: MycelSettings, wallet: Any, state_dir: Path) -> Any:
    """The federated coordinator (validator.fl_weight > 0), or a one-line start-up refusal."""
    if settings.validator.fl_weight <= 0:
        return None
    try:
        from mycel_subnet.validator.federated import build_coordinator

        return build_coordinator(settings, wallet, state_dir)
    except ImportError as error:
        raise ValidatorStartupError(
            ExitCode.UNAVAILABLE, f"federated rounds need torch, peft and opacus: {error}"
        ) from None
    except (OSError, ValueError) as error:
        raise ValidatorStartupError(ExitCode.USAGE, f"federated rounds: {error}") from None


def run_validator(settings: MycelSettings) -> int:
    """Run until SIGTERM/SIGINT; returns the exit code."""
    try:
        wallet = open_hotkey_wallet(settings)
        hotkey = wallet.hotkey.ss58_address
        vs = settings.validator
        state_dir = Path(vs.state_dir).expanduser()
        state_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(state_dir, 0o700)  # the seeds recorded here are private until used
        lock = validator_lock(state_dir, Path(wallet.path).expanduser() / wallet.name, hotkey)
        try:
            lock.acquire()
        except AlreadyRunning as error:
            raise ValidatorStartupError(ExitCode.LOCKED, str(error)) from None
    except StartupError as error:
        log.error("%s", error)
        return error.code
    chain = ChainPort(settings.subtensor.network, settings.netuid, wallet)
    wandb = None
    validator = None
    try:
        check_chain(chain, settings, hotkey)
        metrics = ValidatorMetrics()
        if vs.metrics_port:
            try:
                metrics.serve(vs.metrics_port)
            except OSError as error:
                raise ValidatorStartupError(
                    ExitCode.UNAVAILABLE, f"metrics port {vs.metrics_port}: {error.strerror}"
                ) from None
        config = ValidatorConfig(
            sample_size=vs.sample_size, timeout_s=vs.timeout_s,
            step_interval_s=vs.step_interval_s, alpha=vs.moving_average_alpha,
            max_response_bytes=vs.max_response_bytes, state_dir=state_dir,
            version_key=spec_version(),
            reward=RewardPolicy(vs.reward_floor, vs.below_power),
            weights=WeightPolicy(vs.sharpen_power, vs.reward_floor, vs.floor_policy, vs.burn_uid),
            grading_budget_s=vs.grading_budget_s,
            fl_weight=vs.fl_weight, fl_every_steps=vs.fl_every_steps,
        )  # fmt: skip
        federated = _federated(settings, wallet, state_dir)
        wandb = WandbLogger(
            settings.wandb.mode, settings.wandb.project, settings.wandb.entity,
            state_dir / "wandb",
            {"netuid": settings.netuid, "hotkey": hotkey, "spec_version": config.version_key,
             "sample_size": vs.sample_size, "timeout_s": vs.timeout_s},
        )  # fmt: skip
        near = build_near_side(settings, state_dir, wallet)
        validator = Validator(
            config, wallet=wallet, chain=chain, mirror=near.mirror, verifier=near.verifier,
            metrics=metrics, wandb=wandb, search=build_search_task(settings, state_dir),
            federated=federated,
        )  # fmt: skip
        log.info("state in %s (resuming after step %d)", state_dir, validator.step_no)
        asyncio.run(_serve(validator, build_gateway_for(validator, settings, wallet)))
        return ExitCode.OK
    except StartupError as error:
        log.error("%s", error)
        return error.code
    finally:
        if validator is not None:
            validator.close()
        if wandb is not None:
            wandb.finish()
        chain.close()
        lock.release()
