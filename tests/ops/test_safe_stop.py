"""The restart the auto-updater and the supervisors rely on: SIGTERM (and SIGINT) to a running
validator lets the step in progress finish, starts no new one, then returns. The real signal
handler (validator.run._serve) and the real loop (Validator.run) run; only the step is a stand-in
that signals its own process halfway through."""

from __future__ import annotations

import asyncio
import os
import signal
import types

import pytest

from mycel_subnet.validator.loop import Validator
from mycel_subnet.validator.run import _serve


class StepThatGetsSignalled:
    """Stands in for a Validator: its step sends `sig` to this process mid-step."""

    def __init__(self, sig: signal.Signals) -> None:
        self.sig = sig
        self.started = 0
        self.finished = 0
        self.metrics = None
        self.config = types.SimpleNamespace(step_interval_s=0.0)
        self.run = types.MethodType(Validator.run, self)

    async def step(self) -> None:
        self.started += 1
        if self.started == 2:
            os.kill(os.getpid(), self.sig)
            await asyncio.sleep(0.2)  # the rest of the step: queries, grading, weights
        self.finished += 1


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_mid_step_lets_the_step_finish(sig: signal.Signals) -> None:
    validator = StepThatGetsSignalled(sig)
    asyncio.run(_serve(validator))  # type: ignore[arg-type]
    assert (validator.started, validator.finished) == (2, 2)
    # The handlers are gone again: the default disposition is back for the process.
    assert signal.getsignal(sig) in (signal.SIG_DFL, signal.default_int_handler)
