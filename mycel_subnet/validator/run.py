"""Start a validator: check the wallet, take the lock, check the chain, then loop until a signal.

Every refusal is one clear line and an exit code (mycel_subnet.exit_codes): 2 bad
configuration or wallet, 3 hotkey not registered, 4 chain or metrics port unavailable, 5 another
validator already runs with this hotkey.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

from mycel_subnet.chain.port import ChainPort
from mycel_subnet.config import MycelSettings
from mycel_subnet.exit_codes import ExitCode
from mycel_subnet.neuron_startup import StartupError, open_hotkey_wallet, registered_neuron
from mycel_subnet.validator.lock import AlreadyRunning, validator_lock
from mycel_subnet.validator.loop import Validator, ValidatorConfig
from mycel_subnet.validator.metrics import ValidatorMetrics
from mycel_subnet.validator.mirror import build_mirror
from mycel_subnet.validator.scoring import RewardPolicy
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


async def _serve(validator: Validator) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await validator.run(stop)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    log.info("validator stopped")


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
        )  # fmt: skip
        wandb = WandbLogger(
            settings.wandb.mode, settings.wandb.project, settings.wandb.entity,
            state_dir / "wandb",
            {"netuid": settings.netuid, "hotkey": hotkey, "spec_version": config.version_key,
             "sample_size": vs.sample_size, "timeout_s": vs.timeout_s},
        )  # fmt: skip
        validator = Validator(
            config, wallet=wallet, chain=chain, mirror=build_mirror(state_dir, settings.near),
            metrics=metrics, wandb=wandb,
        )  # fmt: skip
        log.info("state in %s (resuming after step %d)", state_dir, validator.step_no)
        asyncio.run(_serve(validator))
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
