"""Weights & Biases logging: offline unless configured, imported only when used.

mode "disabled" never imports wandb. Any wandb failure is logged once and logging stops; it
never stops the validator.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class WandbLogger:
    def __init__(
        self, mode: str, project: str, entity: str | None, run_dir: Path, config: dict[str, Any]
    ) -> None:
        self.mode = mode
        self._run: Any = None
        if mode == "disabled":
            return
        try:
            import wandb

            run_dir.mkdir(parents=True, exist_ok=True)
            self._run = wandb.init(
                mode=mode, project=project, entity=entity, dir=str(run_dir), config=config,
                job_type="validator", reinit="finish_previous",
                settings=wandb.Settings(silent=True, console="off"),
            )  # fmt: skip
        except Exception as error:
            log.warning("wandb logging is off: %s", str(error).splitlines()[0][:200])
            self._run = None

    @property
    def active(self) -> bool:
        return self._run is not None

    def log(self, data: dict[str, Any], step: int) -> None:
        if self._run is None:
            return
        try:
            self._run.log(data, step=step)
        except Exception as error:
            log.warning("wandb logging stopped: %s", str(error)[:200])
            self._run = None

    def finish(self) -> None:
        if self._run is not None:
            try:
                self._run.finish()
            except Exception as error:
                log.debug("wandb finish failed: %s", error)
            self._run = None
