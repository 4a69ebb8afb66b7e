"""The validator's step and its forever loop.

A step: read the metagraph, sample serving miners, build the round's challenges from a fresh
secret seed (private instances per miner plus shared ones), query and grade while the reference
engine answers its own sample (the floor), find miners that run one engine, turn values into
rewards relative to the floor, commit them into the moving averages (one transaction), then
set weights (sharpened) if the chain allows it and mirror the rewards. An error in a
step is logged with its traceback and the loop goes on; only a stop signal ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mycel_subnet.validator.challenges import SandboxChecker, build_round
from mycel_subnet.validator.challenges.base import CodeChecker
from mycel_subnet.validator.challenges.round import SEARCH_TASK
from mycel_subnet.validator.duplicates import duplicate_groups, mark_duplicates
from mycel_subnet.validator.forward import RoundOutcome, run_round, select_targets
from mycel_subnet.validator.metrics import ValidatorMetrics
from mycel_subnet.validator.mirror import RewardMirror, take_notes
from mycel_subnet.validator.reference import ReferenceBaseline
from mycel_subnet.validator.scoring import (
    FL_VALUE,
    RewardPolicy,
    blend_federated,
    miner_rewards,
    score_from_values,
    step_values,
)
from mycel_subnet.validator.search_task import SearchTask
from mycel_subnet.validator.step_lines import detail_lines, error_kind, uid_line
from mycel_subnet.validator.steplog import StepLog
from mycel_subnet.validator.store import SCORES_FILE, ScoreStore, StepRecord
from mycel_subnet.validator.wandb_log import WandbLogger
from mycel_subnet.validator.weights import WeightAttempt, WeightPolicy, WeightSetter

log = logging.getLogger(__name__)
REFERENCE_META = "reference_values"


@dataclass(frozen=True)
class ValidatorConfig:
    sample_size: int
    timeout_s: float
    step_interval_s: float
    alpha: float
    max_response_bytes: int
    state_dir: Path
    version_key: int
    reward: RewardPolicy = field(default_factory=RewardPolicy)
    weights: WeightPolicy = field(default_factory=WeightPolicy)
    grading_budget_s: float = 3.0
    fl_weight: float = 0.0  # share of the score from federated contributions (0: no rounds)
    fl_every_steps: int = 5


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
    reference: dict[str, float] = field(default_factory=dict)  # the floor's task values
    duplicates: list[set[int]] = field(default_factory=list)
    federated: Any = None  # the FlRoundReport of a step that ran a federated round
    notes: list[str] = field(default_factory=list)  # e.g. why this step has no search task


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
        reference: ReferenceBaseline | None = None,
        search: SearchTask | None = None,
        federated: Any = None,
        verifier: Any = None,
    ) -> None:
        self.config = config
        self.verifier = verifier  # a PatternVerifier (validator/verification.py) or None
        self.federated = federated  # a FederatedCoordinator (validator/federated.py) or None
        self.search = search  # pattern search challenges over its own registry index
        self.wallet = wallet
        self.chain = chain
        self.hotkey = wallet.hotkey.ss58_address
        self.mirror = mirror
        self.metrics = metrics
        self.wandb = wandb
        self.checker = checker or SandboxChecker()
        self.store = ScoreStore(Path(config.state_dir) / SCORES_FILE, config.alpha)
        self.steplog = StepLog(config.state_dir)
        self.weights = WeightSetter(chain, self.hotkey, config.version_key, config.weights)
        self.step_no = self.store.last_step()
        self.graph: Any = None  # the last metagraph a step read (the gateway routes by it)
        self.reference = reference or ReferenceBaseline()
        saved = self.store.meta(REFERENCE_META)
        if saved:
            with contextlib.suppress(ValueError, TypeError):
                self.reference = ReferenceBaseline(
                    self.reference.engine, prior=json.loads(saved),
                    searcher=self.reference.searcher,
                )  # fmt: skip
        if search is not None and self.reference.searcher is None:
            self.reference.searcher = search.answer  # its own exact search is the par
        self._rng = random.Random(secrets.randbits(64))

    def close(self) -> None:
        self.store.close()
        if self.verifier is not None:
            self.verifier.close()
        if self.search is not None and self.search.index is not None:
            self.search.index.close()

    async def step(self) -> StepReport:
        started = time.monotonic()
        graph = await asyncio.to_thread(self.chain.metagraph)
        self.graph = graph
        hotkeys = {n.uid: n.hotkey for n in graph.neurons}
        targets = select_targets(graph, self.hotkey, self.config.sample_size, self._rng)
        fl_job = self._start_federated(graph)
        prepared = await self.search.prepare() if self.search is not None else None
        snapshot = prepared.snapshot if prepared is not None else None
        round_ = await asyncio.to_thread(build_round, None, snapshot)
        floor_job = asyncio.to_thread(
            self.reference.measure, round_.reference_sample(), self.checker,
            self.config.timeout_s,
        )  # fmt: skip
        outcome, floor = await asyncio.gather(
            run_round(
                round_,
                targets,
                wallet=self.wallet,
                checker=self.checker,
                timeout_s=self.config.timeout_s,
                max_response_bytes=self.config.max_response_bytes,
                grading_budget_s=self.config.grading_budget_s,
            ),
            floor_job,
        )
        if snapshot is None:  # no search this step: the other tasks score as without it
            floor.pop(SEARCH_TASK, None)
        groups = duplicate_groups(outcome.results)
        mark_duplicates(outcome.results, groups)
        rewards = miner_rewards(
            outcome.results, [t.uid for t in targets], self.config.timeout_s, floor,
            self.config.reward, groups,
        )  # fmt: skip
        values = step_values(
            outcome.results, [t.uid for t in targets], self.config.timeout_s, floor, groups
        )
        fl_report = await self._finish_federated(fl_job, values, rewards)
        await asyncio.to_thread(self.store.set_meta, REFERENCE_META, json.dumps(floor))
        step_no = self.step_no + 1
        record = StepRecord(
            step_no, graph.block, round_.seed, time.monotonic() - started, rewards, values
        )
        commit_start = time.monotonic()
        policy, fl_weight = self.config.reward, self.config.fl_weight
        scores = await asyncio.to_thread(
            self.store.commit_step, record, hotkeys,
            lambda averaged: blend_federated(
                score_from_values(averaged, floor, policy), averaged, fl_weight
            ),
        )  # fmt: skip
        self.step_no = step_no
        committed = time.monotonic()

        attempt, mirrored = await self._set_weights(graph, scores)
        notes = [prepared.note] if prepared is not None else []
        notes += take_notes(self.mirror)  # bindings confirmed, a chain reset handled
        if self.verifier is not None:  # organic: never changes this step's rewards
            notes.append((await self.verifier.run_pass(graph, self.store, self.hotkey)).line())
        report = StepReport(
            step=step_no, block=graph.block, rewards=rewards, scores=scores, weights=attempt,
            outcome=outcome, challenges=tuple(c.summary for c in round_.shared),
            mirrored=mirrored, reference=floor, duplicates=groups,
            notes=notes,
            durations={
                "query_s": outcome.query_seconds, "grade_s": outcome.grade_seconds,
                "commit_s": committed - commit_start, "weights_s": time.monotonic() - committed,
                "step_s": time.monotonic() - started,
            },
        )  # fmt: skip
        report.federated = fl_report
        self._record(report)
        return report

    def _start_federated(self, graph: Any) -> asyncio.Task | None:
        """Every fl_every_steps steps, a federated round over every serving miner (its own
        sample of K), run beside the step's challenges."""
        cfg = self.config
        if self.federated is None or cfg.fl_weight <= 0 or (self.step_no + 1) % cfg.fl_every_steps:
            return None
        everyone = select_targets(graph, self.hotkey, 1 << 16, self._rng)
        return asyncio.create_task(self.federated.run_round(everyone))

    async def _finish_federated(
        self, job: asyncio.Task | None, values: dict[int, dict[str, float]],
        rewards: dict[int, float],
    ) -> Any:  # fmt: skip
        """Fold the round's contribution values into this step (a failed round changes none)."""
        if job is None:
            return None
        try:
            report = await job
        except Exception:
            log.exception("federated round failed; the step goes on")
            return None
        weight = self.config.fl_weight
        for uid, value in report.values().items():
            values.setdefault(uid, {})[FL_VALUE] = value
            if uid in rewards:
                rewards[uid] = (1.0 - weight) * rewards[uid] + weight * value
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
        tasks: dict[str, list[dict[str, Any]]] = {}
        for result in report.outcome.results:
            tasks.setdefault(str(result.uid), []).append({
                "task": result.task, "tier": result.tier, "shared": result.shared_key is not None,
                "accuracy": round(result.accuracy, 4), "value": round(result.value, 4),
                "latency_s": round(result.latency_s, 3), "detail": result.detail[:160],
                "errors": result.errors[:2], "duplicates": result.duplicates,
                "error": error_kind(result.errors[0]) if result.errors else None,
            })  # fmt: skip
        self.steplog.append({
            "step": report.step, "block": report.block, "ts": round(time.time(), 3),
            "rewards": {str(k): round(v, 6) for k, v in report.rewards.items()},
            "scores": {str(k): round(v, 6) for k, v in report.scores.items()},
            "queries": sum(report.outcome.queries.values()),
            "query_outcomes": dict(report.outcome.queries), "weights": weights, "tasks": tasks,
            "near_rewards": {k: round(v, 6) for k, v in report.mirrored.items()},
            "reference": {k: round(v, 4) for k, v in report.reference.items()},
            "duplicate_groups": [sorted(g) for g in report.duplicates],
            "durations": {k: round(v, 4) for k, v in report.durations.items()},
            "notes": report.notes,
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
            "step %d at block %d: %d miners, queries %s, floor %s, duplicates %s, weights %s, "
            "%.2fs",
            report.step, report.block, len(report.rewards), dict(report.outcome.queries),
            {k[:4]: round(v, 2) for k, v in report.reference.items()},
            [sorted(g) for g in report.duplicates] or "none",
            attempt.status if attempt else "-", report.durations["step_s"],
        )  # fmt: skip
        for note in report.notes:
            log.info("step %d: %s", report.step, note)
        for uid, reward in sorted(report.rewards.items()):
            mine = [r for r in report.outcome.results if r.uid == uid]
            endpoint = report.outcome.endpoints.get(uid, "")
            log.info(
                "%s", uid_line(uid, mine, reward=reward, score=report.scores.get(uid),
                               endpoint=endpoint),
            )  # fmt: skip
            if log.isEnabledFor(logging.DEBUG):
                for line in detail_lines(uid, mine):
                    log.debug("%s", line)

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
