"""The validator's step and its forever loop.

A step: read the metagraph, sample serving miners, build the round's challenges from a fresh
secret seed, query and grade, zero copies, commit the rewards into the moving averages (one
transaction), then set weights if the chain allows it and mirror the rewards. An error in a
step is logged with its traceback and the loop goes on; only a stop signal ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mycel_subnet.validator.challenges import SandboxChecker, build_round
from mycel_subnet.validator.challenges.base import CodeChecker
from mycel_subnet.validator.forward import RoundOutcome, run_round, select_targets
from mycel_subnet.validator.metrics import ValidatorMetrics
from mycel_subnet.validator.mirror import RewardMirror
from mycel_subnet.validator.scoring import mark_copies, miner_rewards
from mycel_subnet.validator.steplog import StepLog
from mycel_subnet.validator.store import SCORES_FILE, ScoreStore, StepRecord
from mycel_subnet.validator.wandb_log import WandbLogger
from mycel_subnet.validator.weights import WeightAttempt, WeightSetter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ValidatorConfig:
    sample_size: int
    timeout_s: float
    step_interval_s: float
    alpha: float
    max_response_bytes: int
    state_dir: Path
    version_key: int


@dataclass
class StepReport:
    step: int
    block: int
    rewards: dict[int, float]
    scores: dict[int, float]
    weights: WeightAttempt | None
    outcome: RoundOutcome
    durations: dict[str, float] = field(default_factory=dict)
    challenges: tuple[str, ...] = ()
    mirrored: dict[str, float] = field(default_factory=dict)  # hotkey -> reward mirrored


class Validator:
    """Owns the score store and the weight setter; `run` loops until `stop` is set."""

    def __init__(
        self,
        config: ValidatorConfig,
        *,
        wallet: Any,
        chain: Any,
        mirror: RewardMirror | None = None,
        metrics: ValidatorMetrics | None = None,
        wandb: WandbLogger | None = None,
        checker: CodeChecker | None = None,
    ) -> None:
        self.config = config
        self.wallet = wallet
        self.chain = chain
        self.hotkey = wallet.hotkey.ss58_address
        self.mirror = mirror
        self.metrics = metrics
        self.wandb = wandb
        self.checker = checker or SandboxChecker()
        self.store = ScoreStore(Path(config.state_dir) / SCORES_FILE, config.alpha)
        self.steplog = StepLog(config.state_dir)
        self.weights = WeightSetter(chain, self.hotkey, config.version_key)
        self.step_no = self.store.last_step()
        self._rng = random.Random(secrets.randbits(64))

    def close(self) -> None:
        self.store.close()

    async def step(self) -> StepReport:
        started = time.monotonic()
        graph = await asyncio.to_thread(self.chain.metagraph)
        hotkeys = {n.uid: n.hotkey for n in graph.neurons}
        coldkeys = {n.uid: n.coldkey for n in graph.neurons}
        targets = select_targets(graph, self.hotkey, self.config.sample_size, self._rng)
        round_ = build_round()
        outcome = await run_round(
            round_,
            targets,
            wallet=self.wallet,
            checker=self.checker,
            timeout_s=self.config.timeout_s,
            max_response_bytes=self.config.max_response_bytes,
        )
        mark_copies(outcome.results, coldkeys)
        rewards = miner_rewards(
            outcome.results, [t.uid for t in targets], self.config.timeout_s,
            len(round_.challenges),
        )  # fmt: skip
        step_no = self.step_no + 1
        record = StepRecord(step_no, graph.block, round_.seed, time.monotonic() - started, rewards)
        commit_start = time.monotonic()
        scores = await asyncio.to_thread(self.store.commit_step, record, hotkeys)
        self.step_no = step_no
        committed = time.monotonic()

        attempt, mirrored = await self._set_weights(graph, scores)
        report = StepReport(
            step=step_no, block=graph.block, rewards=rewards, scores=scores, weights=attempt,
            outcome=outcome, challenges=tuple(c.summary for c in round_.challenges),
            mirrored=mirrored,
            durations={
                "query_s": outcome.query_seconds, "grade_s": outcome.grade_seconds,
                "commit_s": committed - commit_start, "weights_s": time.monotonic() - committed,
                "step_s": time.monotonic() - started,
            },
        )  # fmt: skip
        self._record(report)
        return report

    async def _set_weights(
        self, graph: Any, scores: dict[int, float]
    ) -> tuple[WeightAttempt | None, dict[str, float]]:
        """Set weights if allowed; after a success, mirror the rewards (hotkey -> average)."""
        try:
            hp = await asyncio.to_thread(self.chain.hyperparameters)
            attempt = await asyncio.to_thread(self.weights.attempt, graph, hp, scores, graph.block)
        except Exception as error:  # a chain outage: scores are safe, try again next step
            log.warning("weights not attempted: %s", error)
            return WeightAttempt("failed", f"chain read failed: {error}", graph.block), {}
        if not attempt.ok:
            return attempt, {}
        by_uid = {n.uid: n.hotkey for n in graph.neurons}
        rewards = {by_uid[uid]: scores.get(uid, 0.0) for uid in attempt.uids if uid in by_uid}
        if self.mirror is not None:
            try:
                await self.mirror.record_rewards(attempt.block, rewards)
            except Exception as error:
                log.warning("reward mirror failed: %s", error)
        return attempt, rewards

    def _record(self, report: StepReport) -> None:
        attempt = report.weights
        weights = None
        if attempt is not None:
            weights = {
                "ok": attempt.ok, "status": attempt.status, "message": attempt.message,
                "block": attempt.block,
                "uids": attempt.uids, "weights": [round(w, 6) for w in attempt.weights],
                "error": str(attempt.error) if attempt.error else None,
            }  # fmt: skip
        tasks: dict[str, dict[str, Any]] = {}
        for result in report.outcome.results:
            tasks.setdefault(str(result.uid), {})[result.task] = {
                "accuracy": round(result.accuracy, 4), "latency_s": round(result.latency_s, 3),
                "detail": result.detail[:160], "errors": result.errors[:2],
                "copied_from": result.copied_from,
            }  # fmt: skip
        self.steplog.append({
            "step": report.step, "block": report.block, "ts": round(time.time(), 3),
            "rewards": {str(k): round(v, 6) for k, v in report.rewards.items()},
            "scores": {str(k): round(v, 6) for k, v in report.scores.items()},
            "queries": sum(report.outcome.queries.values()),
            "query_outcomes": dict(report.outcome.queries), "weights": weights, "tasks": tasks,
            "near_rewards": {k: round(v, 6) for k, v in report.mirrored.items()},
            "durations": {k: round(v, 4) for k, v in report.durations.items()},
        })  # fmt: skip
        if self.metrics is not None:
            self.metrics.steps.labels("ok").inc()
            self.metrics.step_seconds.observe(report.durations["step_s"])
            self.metrics.block.set(report.block)
            for outcome, count in report.outcome.queries.items():
                self.metrics.queries.labels(outcome).inc(count)
            self.metrics.set_scores(report.scores)
            if attempt is not None:
                self.metrics.weight_sets.labels(attempt.status).inc()
        if self.wandb is not None:
            data: dict[str, Any] = {f"score/{uid}": s for uid, s in report.scores.items()}
            data.update({f"reward/{uid}": r for uid, r in report.rewards.items()})
            data.update({f"time/{k}": v for k, v in report.durations.items()})
            data["block"] = report.block
            if attempt is not None and attempt.ok:
                data.update({f"weight/{u}": w for u, w in zip(attempt.uids, attempt.weights,
                                                             strict=True)})  # fmt: skip
            self.wandb.log(data, step=report.step)
        log.info(
            "step %d at block %d: %d miners, queries %s, weights %s, %.2fs",
            report.step, report.block, len(report.rewards), dict(report.outcome.queries),
            attempt.status if attempt else "-", report.durations["step_s"],
        )  # fmt: skip

    async def run(self, stop: asyncio.Event) -> None:
        """Step until `stop` is set; a failing step is logged and the next one runs."""
        while not stop.is_set():
            try:
                await self.step()
            except Exception:
                log.exception("validator step failed; the loop goes on")
                if self.metrics is not None:
                    self.metrics.steps.labels("error").inc()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.config.step_interval_s)
